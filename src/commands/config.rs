//! `finsandbox config show` and `finsandbox config init`.

use std::path::Path;

use serde::Serialize;

use super::{current_dir, Context};
use crate::config::{self, Entry, Overrides};
use crate::error::{code, ConfigError, Result};
use crate::printer::{CommandOutput, Render};

/// The commented default file `config init` writes.
pub const TEMPLATE: &str = include_str!("../../config/docker_config.yaml");

#[derive(Serialize)]
pub struct Shown {
    /// The config file in use, and how it was found; null when none.
    pub file: Option<String>,
    pub found_by: Option<String>,
    pub settings: Vec<Entry>,
}

impl Render for Shown {
    fn render_text(&self, _color: bool) -> String {
        let mut s = match (&self.file, &self.found_by) {
            (Some(f), Some(how)) => format!("config file: {f} (found by {how})\n"),
            _ => "config file: none (built-in defaults, environment, flags)\n".to_string(),
        };
        let width = self.settings.iter().map(|e| e.key.len()).max().unwrap_or(0);
        for e in &self.settings {
            s.push_str(&format!("{:<width$}  {}  [{}]\n", e.key, e.value, e.origin));
        }
        s
    }
}

impl CommandOutput for Shown {
    fn exit_code(&self) -> i32 {
        code::OK
    }
}

pub fn show(ctx: &Context, flag: Option<&Path>) -> Result<Shown> {
    let cwd = current_dir()?;
    let found = config::config_path(flag, ctx.env, &cwd);
    let file = found.as_ref().map(config::load_found).transpose()?;
    let pair = found.as_ref().zip(file.as_ref()).map(|(f, c)| (f.path.as_path(), c));
    let settings = config::explain(pair, ctx.env, &Overrides::default(), &cwd)?;
    Ok(Shown { file: found.as_ref().map(|f| f.path.display().to_string()), found_by: found.map(|f| f.how), settings })
}

#[derive(Serialize)]
pub struct Initialised {
    pub path: String,
}

impl Render for Initialised {
    fn render_text(&self, _color: bool) -> String {
        format!("wrote {} (the defaults, commented); edit it, then check with `finsandbox config show`\n", self.path)
    }
}

impl CommandOutput for Initialised {
    fn exit_code(&self) -> i32 {
        code::OK
    }
}

pub fn init(path: &Path, force: bool) -> Result<Initialised> {
    let io = |e: std::io::Error| ConfigError::Read { path: path.to_path_buf(), source: e };
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let mut f = open.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            ConfigError::Value {
                key: "config init".into(),
                origin: "command line".into(),
                message: format!("`{}` exists; pass --force to overwrite it", path.display()),
            }
        } else {
            io(e)
        }
    })?;
    std::io::Write::write_all(&mut f, TEMPLATE.as_bytes()).map_err(io)?;
    Ok(Initialised { path: path.display().to_string() })
}
