//! One file per command (imitating uv's `commands/`). Each takes the parsed
//! arguments and the context, does its work through the library, and returns
//! a typed output that the one [`Printer`] renders; errors travel up as
//! [`Error`] and become an exit code in `main`.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use crate::cli::{Cli, Command, ConfigCommand, DataCommand, ImageCommand, K8sCommand, SeccompCommand};
use crate::config::EnvMap;
use crate::error::{Error, Result};
use crate::printer::{CommandOutput, Printer};

mod batch;
mod cleanup;
mod config;
mod data;
mod doctor;
mod exec;
mod generate;
mod image;
mod k8s;
mod scale;
mod validate;

/// What every command may use: the arguments, the environment (read once,
/// in `main`), and the printer.
pub struct Context<'a> {
    pub cli: &'a Cli,
    pub env: &'a EnvMap,
    pub printer: &'a Printer,
}

/// Run the command; the exit code its outcome stands for.
pub fn dispatch(ctx: &Context) -> Result<i32> {
    match &ctx.cli.command {
        Command::Exec(args) => {
            let r = exec::exec(ctx, args)?;
            // Cron-friendly: `--quiet` without `--json` prints nothing; the
            // exit code (and --audit-log, metrics) carry the outcome.
            if ctx.printer.quiet && !ctx.printer.json {
                return Ok(r.exit_code());
            }
            print(ctx, &r)
        }
        Command::Batch(args) => match &args.action {
            Some(action) => scale::dispatch(ctx, action),
            None => batch::batch(ctx, args),
        },
        Command::Validate(args) => print(ctx, &validate::validate(ctx, args)?),
        Command::Cleanup(args) => print(ctx, &cleanup::cleanup(ctx, args)?),
        Command::Doctor(args) if args.backend.is_some() => print(ctx, &scale::doctor(ctx, args)?),
        Command::Doctor(args) => print(ctx, &doctor::doctor(ctx, args)?),
        Command::Data(DataCommand::Sample { out, symbols, years, finlab }) => {
            report(ctx, &data::sample(out, *symbols, *years, *finlab)?)
        }
        Command::Data(DataCommand::Import { csv, out }) => report(ctx, &data::import(csv, out)?),
        Command::Image(ImageCommand::Build(args)) => report(ctx, &image::build(ctx, args)?),
        Command::Config(ConfigCommand::Show { config }) => print(ctx, &config::show(ctx, config.as_deref())?),
        Command::Config(ConfigCommand::Init { path, force }) => report(ctx, &config::init(path, *force)?),
        Command::K8s(K8sCommand::Render(args)) => print(ctx, &k8s::render(ctx, args)?),
        Command::K8s(K8sCommand::Score(args)) => {
            let r = k8s::score(ctx, args)?;
            if ctx.printer.quiet && !ctx.printer.json {
                return Ok(r.exit_code());
            }
            print(ctx, &r)
        }
        Command::Seccomp(SeccompCommand::Show) => {
            let (profile, sha) = (crate::seccomp::EMBEDDED, crate::seccomp::embedded_sha256());
            print!("{profile}");
            ctx.printer.note(&format!("sha256 {sha} (embedded in finsandbox {})", env!("CARGO_PKG_VERSION")));
            Ok(crate::error::code::OK)
        }
        Command::Generate { what } => generate::generate(what),
    }
}

/// A result: stdout, JSON or text.
fn print<T: CommandOutput>(ctx: &Context, out: &T) -> Result<i32> {
    ctx.printer.output(out);
    Ok(out.exit_code())
}

/// A side effect's report: JSON on stdout under `--json`, else a note on
/// stderr (the command's data went to a file).
fn report<T: CommandOutput>(ctx: &Context, out: &T) -> Result<i32> {
    if ctx.printer.json {
        ctx.printer.output(out);
    } else {
        ctx.printer.note(out.render_text(ctx.printer.color).trim_end());
    }
    Ok(out.exit_code())
}

/// The effective settings (the config file found for `config`, the
/// environment, these flags), and where metrics and audit lines go.
fn settings(
    ctx: &Context,
    config: Option<&std::path::Path>,
    flags: &crate::config::Overrides,
) -> Result<(crate::config::Settings, crate::config::Observe)> {
    let cwd = current_dir()?;
    let file = crate::config::load_file(config, ctx.env, &cwd)?;
    let file = file.as_ref().map(|(p, f)| (p.as_path(), f));
    let s = crate::config::resolve(file, ctx.env, flags, &cwd)?;
    let observe = crate::config::resolve_observe(file, ctx.env, flags, &cwd)?;
    for reason in &s.insecure_reasons {
        ctx.printer.warn(&format!("insecure run (--allow-insecure): {reason}"));
    }
    Ok((s, observe))
}

/// The config layer of the limit flags `exec`, `batch` and `k8s render`
/// share; each adds its own flags to it.
fn limit_overrides(l: &crate::cli::LimitArgs) -> crate::config::Overrides {
    crate::config::Overrides {
        image: l.image.clone(),
        memory: l.memory.clone(),
        cpus: l.cpus,
        timeout_seconds: l.timeout,
        ..Default::default()
    }
}

fn current_dir() -> Result<std::path::PathBuf> {
    std::env::current_dir().map_err(|e| Error::Internal(format!("no working directory: {e}")))
}

/// SIGINT, SIGTERM and SIGHUP set the returned flag to the signal number; the
/// run notices, kills and removes its container, and exits 128+N. A second
/// signal of the same kind exits at once.
fn install_signal_handlers() -> Result<Arc<AtomicUsize>> {
    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&flag))
            .and_then(|_| signal_hook::flag::register(sig, flag))
            .and_then(|_| signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize))
            .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?;
    }
    Ok(signal)
}
