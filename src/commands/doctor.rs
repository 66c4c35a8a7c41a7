//! `finsandbox doctor`: the engine, the image, the profile, and the escape
//! canary on every runtime the engine offers.

use std::sync::Arc;

use serde::Serialize;

use super::{current_dir, install_signal_handlers, Context};
use crate::cli::DoctorArgs;
use crate::config::{self, Overrides};
use crate::error::{code, Result};
use crate::printer::{CommandOutput, Render};
use crate::selftest::{self, SelfTest};
use crate::{engine, image};

#[derive(Serialize)]
pub struct Doctor {
    pub engine: String,
    pub image: String,
    pub default_runtime: String,
    pub healthy: bool,
    pub runtimes: Vec<SelfTest>,
}

impl Render for Doctor {
    fn render_text(&self, _color: bool) -> String {
        let mut s = String::new();
        for t in &self.runtimes {
            let verdict = if t.healthy { "healthy" } else { "UNHEALTHY" };
            let default = if t.runtime == self.default_runtime { " (default)" } else { "" };
            s.push_str(&format!("runtime {}{default}: {verdict}\n", t.runtime));
            for c in &t.checks {
                s.push_str(&format!(
                    "  {:<26} {:<8} {}\n",
                    c.name,
                    if c.escaped { "ESCAPED" } else { "blocked" },
                    crate::printer::terminal_safe(&c.detail)
                ));
            }
            if let Some(e) = &t.error {
                s.push_str(&format!("  error: {}\n", crate::printer::terminal_safe(e)));
            }
        }
        s
    }
}

impl CommandOutput for Doctor {
    fn exit_code(&self) -> i32 {
        if self.healthy {
            code::OK
        } else {
            code::ENGINE
        }
    }
}

pub fn doctor(ctx: &Context, args: &DoctorArgs) -> Result<Doctor> {
    let signal = install_signal_handlers()?;
    let cwd = current_dir()?;
    let file = config::load_file(args.config.as_deref(), ctx.env, &cwd)?;
    let settings = config::resolve(file.as_ref().map(|(p, f)| (p.as_path(), f)), ctx.env, &Overrides::default(), &cwd)?;
    let engine = engine::locate(ctx.cli.engine.as_deref(), ctx.env)?;
    let info = engine::preflight(&engine)?;
    ctx.printer.note(&format!("engine: {} {} ({})", engine.name(), info.server_version, engine.program.display()));
    let image = image::check_image(&engine, &settings.image)?;
    ctx.printer.note(&format!("image: {} ({})", settings.image, image.id));
    ctx.printer.note(&format!("seccomp profile: {}", settings.seccomp_profile.display()));
    let (default, offered) = engine::runtimes(&engine)?;
    let wanted: Vec<String> = if args.runtime.is_empty() {
        // `io.containerd.*` entries are aliases of runc's shim, not separate tiers.
        offered.iter().filter(|r| !r.starts_with("io.containerd.")).cloned().collect()
    } else {
        args.runtime.clone()
    };
    let mut runtimes = Vec::new();
    for rt in &wanted {
        let mut s = settings.clone();
        s.runtime = (rt != &default).then(|| rt.clone());
        let mut t = selftest::run(&engine, &s, Arc::clone(&signal))?;
        t.runtime = rt.clone();
        runtimes.push(t);
    }
    let healthy = runtimes.iter().all(|t| t.healthy);
    Ok(Doctor { engine: info.server_version, image: image.id, default_runtime: default, healthy, runtimes })
}
