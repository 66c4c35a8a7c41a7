//! `finsandbox exec`: resolve the settings, optionally self-test, run the
//! pipeline once.

use std::sync::Arc;

use super::{current_dir, install_signal_handlers, Context};
use crate::cli::ExecArgs;
use crate::config::{self, Overrides};
use crate::error::Result;
use crate::report::RunResult;
use crate::{engine, run, selftest};

pub fn exec(ctx: &Context, args: &ExecArgs) -> Result<RunResult> {
    // Registered first: a Ctrl-C during preflight must not leave anything behind either.
    let signal = install_signal_handlers()?;
    let cwd = current_dir()?;
    let file = config::load_file(args.config.as_deref(), ctx.env, &cwd)?;
    let flags = Overrides {
        image: args.image.clone(),
        memory: args.memory.clone(),
        cpus: args.cpus,
        timeout_seconds: args.timeout,
        network: args.network.clone(),
        read_only: args.writable_root.then_some(false),
        pids_limit: args.pids_limit,
        seccomp_profile: args.seccomp_profile.clone(),
        runtime: args.runtime.clone(),
        keep_container: args.keep_container,
        allow_insecure: args.allow_insecure,
    };
    let settings = config::resolve(file.as_ref().map(|(p, f)| (p.as_path(), f)), ctx.env, &flags, &cwd)?;
    for reason in &settings.insecure_reasons {
        ctx.printer.warn(&format!("insecure run (--allow-insecure): {reason}"));
    }
    let engine = engine::locate(ctx.cli.engine.as_deref(), ctx.env)?;
    if args.self_test {
        let t = selftest::run(&engine, &settings, Arc::clone(&signal))?;
        if !t.healthy {
            return Err(selftest::refusal(&t).into());
        }
        ctx.printer.note(&format!("self-test passed on runtime `{}` ({} checks)", t.runtime, t.checks.len()));
    }
    if args.skip_screening {
        ctx.printer.warn("screening skipped (--skip-screening): the container alone must hold");
    }
    let request = run::Request {
        strategy: &args.strategy,
        data: &args.data,
        settings: &settings,
        engine: &engine,
        signal,
        skip_screening: args.skip_screening,
        equity_out: args.equity_out.clone(),
        start: args.start.clone(),
        end: args.end.clone(),
    };
    run::run(&request)
}
