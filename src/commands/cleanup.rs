//! `finsandbox cleanup`: reap orphaned containers of ours.

use serde::Serialize;

use super::Context;
use crate::cleanup::{self, Reaped};
use crate::cli::CleanupArgs;
use crate::engine;
use crate::error::{code, Result};
use crate::host;
use crate::printer::{CommandOutput, Render};

#[derive(Serialize)]
pub struct Cleanup {
    pub dry_run: bool,
    pub containers: Vec<Reaped>,
    /// Orphans whose removal failed.
    pub failed: usize,
}

impl Render for Cleanup {
    fn render_text(&self, _color: bool) -> String {
        let mut s = String::new();
        for v in self.containers.iter().filter(|v| v.orphan) {
            let what = if self.dry_run {
                "would remove"
            } else if v.removed {
                "removed"
            } else {
                "FAILED to remove"
            };
            s.push_str(&format!("{what} {} ({}, {}): {}\n", v.name, v.id, v.state, v.reason));
        }
        s
    }
}

impl CommandOutput for Cleanup {
    fn exit_code(&self) -> i32 {
        if self.failed > 0 {
            code::ENGINE
        } else {
            code::OK
        }
    }
}

pub fn cleanup(ctx: &Context, args: &CleanupArgs) -> Result<Cleanup> {
    // A bad metrics directory fails before anything is removed.
    if let Some(dir) = &args.metrics_textfile {
        crate::metrics::check_dir(dir).map_err(|message| crate::error::ConfigError::Value {
            key: "--metrics-textfile".into(),
            origin: "command line".into(),
            message,
        })?;
    }
    let engine = engine::locate(ctx.cli.engine.as_deref(), ctx.env)?;
    engine::preflight(&engine)?;
    let boot = host::boot_id();
    let host = cleanup::Host { boot_id: &boot, now: host::now_unix(), alive: &host::process_alive };
    let opts = cleanup::Options { all: args.all, older_than: args.older_than, grace: cleanup::DEFAULT_GRACE };
    let containers = cleanup::sweep(&engine, &host, &opts, args.dry_run)?;
    let failed = containers.iter().filter(|v| v.orphan && !v.removed && !args.dry_run).count();
    let orphans = containers.iter().filter(|v| v.orphan).count();
    if let Some(dir) = &args.metrics_textfile {
        // A dry run reaps nothing; what it found is still the gauge.
        let reaped = containers.iter().filter(|v| v.orphan && v.removed && !args.dry_run).count();
        for w in crate::observe::record_cleanup(dir, orphans as u64, reaped as u64)? {
            ctx.printer.warn(&w);
        }
    }
    if !ctx.printer.json {
        let kept = containers.len() - orphans;
        ctx.printer.note(&format!("{orphans} orphan(s), {kept} container(s) of live runs kept"));
    }
    Ok(Cleanup { dry_run: args.dry_run, containers, failed })
}
