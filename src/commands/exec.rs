//! `finsandbox exec`: resolve the settings, optionally self-test, run the
//! pipeline once.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use super::{install_signal_handlers, Context};
use crate::cli::ExecArgs;
use crate::config::{self, Overrides};
use crate::error::Result;
use crate::observe::{self, Recorded};
use crate::report::RunResult;
use crate::{engine, run, selftest};

pub fn exec(ctx: &Context, args: &ExecArgs) -> Result<RunResult> {
    // Registered first: a Ctrl-C during preflight must not leave anything behind either.
    let signal = install_signal_handlers()?;
    let flags = Overrides {
        network: args.network.clone(),
        read_only: args.writable_root.then_some(false),
        pids_limit: args.pids_limit,
        seccomp_profile: args.seccomp_profile.clone(),
        runtime: args.runtime.clone(),
        keep_container: args.keep_container,
        allow_insecure: args.allow_insecure,
        metrics_textfile_dir: args.metrics_textfile.clone(),
        audit_log: args.audit_log.clone(),
        ..super::limit_overrides(&args.limits)
    };
    let (settings, observe_to) = super::settings(ctx, args.limits.config.as_deref(), &flags)?;
    let mut reporter = observe::Reporter::open(&observe_to, None)?;
    let result = run_once(ctx, args, &settings, signal);
    let recorded = match &result {
        Ok(r) => Recorded::Result(r),
        Err(error) => Recorded::Error { strategy: &args.strategy, error },
    };
    for w in reporter.record(&recorded) {
        ctx.printer.warn(&w);
    }
    result
}

/// The run itself, once the settings and reporting are in place.
fn run_once(
    ctx: &Context,
    args: &ExecArgs,
    settings: &config::Settings,
    signal: Arc<AtomicUsize>,
) -> Result<RunResult> {
    let engine = engine::locate(ctx.cli.engine.as_deref(), ctx.env)?;
    if args.self_test {
        let t = selftest::run(&engine, settings, Arc::clone(&signal))?;
        if !t.healthy {
            return Err(selftest::refusal(&t).into());
        }
        ctx.printer.note(&format!("self-test passed on runtime `{}` ({} checks)", t.runtime, t.checks.len()));
    }
    if args.skip_screening {
        ctx.printer.warn("screening skipped (--skip-screening): the container alone must hold");
    }
    let request = run::Request {
        skip_screening: args.skip_screening,
        equity_out: args.equity_out.clone(),
        start: args.start.clone(),
        end: args.end.clone(),
        runtime_policy: !args.no_runtime_policy,
        ..run::Request::new(&args.strategy, &args.data, settings, &engine, signal)
    };
    run::run(&request)
}
