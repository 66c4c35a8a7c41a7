//! `finsandbox validate`: screening only, text, JSON or SARIF.

use serde::Serialize;

use super::{current_dir, Context};
use crate::cli::{Format, ValidateArgs};
use crate::config;
use crate::error::{code, InputError, Result};
use crate::printer::{CommandOutput, Render};
use crate::screen::{self, FileReport};

/// One report per file, in the format asked for.
pub struct Validation {
    pub reports: Vec<FileReport>,
    pub format: Format,
}

impl Serialize for Validation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.format {
            Format::Sarif => screen::sarif(&self.reports).serialize(s),
            _ => screen::json(&self.reports).serialize(s),
        }
    }
}

impl Render for Validation {
    fn render_text(&self, _color: bool) -> String {
        match self.format {
            Format::Text => screen::text(&self.reports),
            Format::Json => format!("{}\n", screen::json(&self.reports)),
            Format::Sarif => format!("{}\n", screen::sarif(&self.reports)),
        }
    }
}

impl CommandOutput for Validation {
    fn exit_code(&self) -> i32 {
        if self.reports.iter().all(|r| r.clean) {
            code::OK
        } else {
            code::REJECTED
        }
    }
}

pub fn validate(ctx: &Context, args: &ValidateArgs) -> Result<Validation> {
    let cwd = current_dir()?;
    let file = config::load_file(args.config.as_deref(), ctx.env, &cwd)?;
    let policy = config::resolve_screening(file.as_ref().map(|(p, f)| (p.as_path(), f)))?;
    let mut reports = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let (name, bytes) = if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|source| InputError::Strategy { path: path.clone(), source })?;
            ("<stdin>".to_string(), buf)
        } else {
            // Regular files only, bounded: screening reports anything over its
            // own size limit as a finding; this only stops `/dev/zero` and FIFOs.
            let bytes = crate::fsread::read_regular(path, crate::run::MAX_STRATEGY_BYTES * 16)
                .map_err(|source| InputError::Strategy { path: path.clone(), source })?;
            (path.display().to_string(), bytes)
        };
        // Screen what `exec` would run: a notebook's code cells, a script
        // without its IPython magics (bytes that are not UTF-8 are screened
        // as they are, and FS005 says so).
        let mut notes = Vec::new();
        let bytes = match std::str::from_utf8(&bytes) {
            Ok(text) => match crate::notebook::prepare(path, text) {
                Ok(p) => {
                    notes = p.warnings;
                    p.code.into_bytes()
                }
                Err(message) => {
                    return Err(InputError::Notebook { path: path.clone(), message }.into());
                }
            },
            Err(_) => bytes,
        };
        for n in &notes {
            ctx.printer.warn(&format!("{name}: {n}"));
        }
        let findings = screen::screen(&bytes, &policy);
        reports.push(FileReport { path: name, clean: findings.is_empty(), findings });
    }
    let format = if ctx.cli.json { Format::Json } else { args.format };
    Ok(Validation { reports, format })
}
