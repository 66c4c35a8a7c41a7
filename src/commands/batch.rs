//! `finsandbox batch`: many strategies, one JSON line each, a progress bar
//! on stderr, a summary at the end.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{install_signal_handlers, Context};
use crate::batch::{self, Batch, Line, ResumeIndex, Summary};
use crate::cli::BatchArgs;
use crate::config::Overrides;
use crate::error::{code, ConfigError, Error, InputError, Result};
use crate::observe::{Recorded, Reporter};
use crate::{engine, metrics_server, run};

pub fn batch(ctx: &Context, args: &BatchArgs) -> Result<i32> {
    let signal = install_signal_handlers()?;
    let (settings, observe_to) = super::settings(ctx, args.limits.config.as_deref(), &overrides(args))?;
    let live = serve_live_metrics(ctx, args)?;
    let mut reporter = Reporter::open(&observe_to, live)?;
    let engine = engine::locate(ctx.cli.engine.as_deref(), ctx.env)?;
    let strategies = strategies(args)?;
    // Required by clap whenever no subcommand is given.
    let data = args.data.clone().ok_or_else(|| Error::Internal("`--data` is required".into()))?;
    let (resume, mut out) = open_output(args)?;
    let jobs = args
        .jobs
        .map_or_else(
            || std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            |j| usize::try_from(j).unwrap_or(usize::MAX),
        )
        .max(1);
    if args.skip_screening {
        ctx.printer.warn("screening skipped (--skip-screening): the container alone must hold");
    }
    let bar = progress(ctx, strategies.len());
    let b = Batch {
        strategies,
        request: run::Request {
            skip_screening: args.skip_screening,
            start: args.start.clone(),
            end: args.end.clone(),
            ..run::Request::new(std::path::Path::new(""), &data, &settings, &engine, signal)
        },
        jobs,
        fail_fast: args.fail_fast,
        resume: resume.as_ref(),
    };
    let mut on_line = |line: &Line, s: &Summary| {
        let recorded = match line {
            Line::Result(r) => Recorded::Result(r),
            Line::Error(e) => {
                Recorded::ErrorLine { strategy: &e.strategy.path, message: &e.error.message, exit_code: e.exit_code }
            }
        };
        for w in reporter.record(&recorded) {
            bar.suspend(|| ctx.printer.warn(&w));
        }
        let json = line.to_json();
        if ctx.printer.json {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{json}");
            let _ = stdout.flush();
        } else if out.is_none() {
            bar.suspend(|| println!("{}", text_line(line)));
        }
        bar.set_position(s.done() as u64);
        bar.set_message(format!("ok {} / failed {}", s.ok(), s.done() - s.ok()));
        match (out.as_mut(), args.out.as_ref()) {
            // A line that cannot be written stops the batch (it is on stdout
            // with --json): no strategy runs whose result would be lost.
            (Some(f), Some(path)) => crate::jsonl::append(f, &json)
                .map_err(|source| InputError::Output { path: path.clone(), source }.into()),
            _ => Ok(()),
        }
    };
    let result = batch::run_batch(&b, &mut on_line);
    bar.finish_and_clear();
    let summary = result?;
    if !ctx.printer.quiet {
        eprintln!("{}", batch::describe(&summary));
    }
    Ok(code::OK)
}

/// The config layer the command line gives.
fn overrides(args: &BatchArgs) -> Overrides {
    Overrides {
        runtime: args.runtime.clone(),
        metrics_textfile_dir: args.metrics_textfile.clone(),
        audit_log: args.audit_log.clone(),
        ..super::limit_overrides(&args.limits)
    }
}

/// `--metrics-listen`: serve `/metrics` on a loopback address while the batch runs.
fn serve_live_metrics(ctx: &Context, args: &BatchArgs) -> Result<Option<metrics_server::Shared>> {
    let Some(a) = &args.metrics_listen else { return Ok(None) };
    let addr = metrics_server::parse_addr(a).map_err(|message| ConfigError::Value {
        key: "--metrics-listen".into(),
        origin: "command line".into(),
        message,
    })?;
    let shared: metrics_server::Shared = Default::default();
    let local = metrics_server::serve(addr, Arc::clone(&shared)).map_err(Error::Internal)?;
    ctx.printer.note(&format!("serving metrics at http://{local}/metrics while the batch runs"));
    Ok(Some(shared))
}

/// The strategy files the inputs name; none at all is an input error.
fn strategies(args: &BatchArgs) -> Result<Vec<std::path::PathBuf>> {
    Ok(batch::expand_some(&args.inputs, &mut std::io::stdin().lock())?)
}

/// The resume index of `--out` (with `--resume`), and `--out` opened for
/// appending.
fn open_output(args: &BatchArgs) -> Result<(Option<ResumeIndex>, Option<std::fs::File>)> {
    let Some(p) = &args.out else { return Ok((None, None)) };
    let resume = if args.resume {
        Some(ResumeIndex::load(p).map_err(|e| Error::Internal(format!("reading `{}`: {e}", p.display())))?)
    } else {
        None
    };
    let file = crate::jsonl::open(p).map_err(|source| InputError::Output { path: p.clone(), source })?;
    Ok((resume, Some(file)))
}

fn text_line(line: &Line) -> String {
    let path = crate::printer::terminal_safe(line.path());
    match line {
        Line::Result(r) => {
            let sharpe =
                r.metrics.as_ref().and_then(|m| m.sharpe_ratio).map(|s| format!(" sharpe {s:.3}")).unwrap_or_default();
            format!("{}: {}{sharpe}", path, r.status.as_str())
        }
        Line::Error(e) => format!("{}: error: {}", path, crate::printer::terminal_safe(&e.error.message)),
    }
}

fn progress(ctx: &Context, total: usize) -> ProgressBar {
    if ctx.printer.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} {per_sec} eta {eta}") {
        bar.set_style(style);
    }
    bar
}
