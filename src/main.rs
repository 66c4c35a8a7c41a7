//! finsandbox: parse the command line, dispatch, map errors to exit codes.

use finsandbox::{cleanup, cli, config, engine, error, exec, image, report, sample, screen, selftest};

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use clap::{CommandFactory, Parser};

use cli::{
    CleanupArgs, Cli, Command, DataCommand, DoctorArgs, ExecArgs, Format, GenerateCommand, ImageCommand, ValidateArgs,
};
use config::{EnvMap, Overrides};
use error::{Error, Result};
use report::Printer;

fn main() {
    let cli = Cli::parse();
    // The process environment is read once, here, and passed down.
    let env: EnvMap = std::env::vars_os()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
        .collect();
    let printer = Printer {
        json: cli.json,
        quiet: cli.quiet,
        color: std::io::stderr().is_terminal() && !env.contains_key(config::env::NO_COLOR),
    };
    let code = match dispatch(&cli, &env, &printer) {
        Ok(code) => code,
        Err(e) => {
            printer.error(e.kind(), &e.to_string(), e.hint().as_deref(), e.exit_code());
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn dispatch(cli: &Cli, env: &EnvMap, printer: &Printer) -> Result<i32> {
    match &cli.command {
        Command::Exec(args) => exec_command(cli, args, env, printer),
        Command::Validate(args) => validate_command(cli, args, env),
        Command::Cleanup(args) => cleanup_command(cli, args, env, printer),
        Command::Doctor(args) => doctor_command(cli, args, env, printer),
        Command::Data(DataCommand::Sample { out, symbols, years, finlab }) => {
            if *symbols == 0 || *symbols > 20_000 || !(1..=30).contains(years) {
                return Err(error::ConfigError::Value {
                    key: "--symbols/--years".into(),
                    origin: "command line".into(),
                    message: "symbols 1..=20000, years 1..=30".into(),
                }
                .into());
            }
            let spec = sample::SampleSpec { symbols: *symbols, years: *years };
            let s = if *finlab { sample::write_finlab_sample(out, &spec) } else { sample::write_sample(out, &spec) }
                .map_err(|message| error::InputError::Data { path: out.clone(), message })?;
            printer.note(&format!(
                "wrote {}: {} symbols, {} trading days ({} price rows), monthly and quarterly tables",
                out.display(),
                s.symbols,
                s.days,
                s.price_rows
            ));
            Ok(error::code::OK)
        }
        Command::Data(DataCommand::Import { csv, out }) => {
            let n = sample::import_csv(csv, out)
                .map_err(|message| error::InputError::Data { path: csv.clone(), message })?;
            printer.note(&format!("wrote {}: {n} rows", out.display()));
            Ok(error::code::OK)
        }
        Command::Image(ImageCommand::Build(args)) => {
            let engine = engine::locate(cli.engine.as_deref(), env)?;
            engine::preflight(&engine)?;
            let opts = image::BuildOptions {
                method: args.method,
                tag: args.tag.clone(),
                mirror: args.mirror.clone(),
                force: args.force,
                show_progress: std::io::stderr().is_terminal() && !cli.quiet && !cli.json,
            };
            let built = image::build(&engine, &opts, env)?;
            let (method, skipped) = match built {
                Some(m) => (format!("{m:?}").to_lowercase(), false),
                None => ("existing".into(), true),
            };
            if cli.json {
                println!("{}", serde_json::json!({"image": args.tag, "method": method, "skipped": skipped}));
            } else if skipped {
                printer.note(&format!("image `{}` is current; nothing to do (use --force to rebuild)", args.tag));
            } else {
                printer.note(&format!("built image `{}` with method {method}", args.tag));
            }
            Ok(error::code::OK)
        }
        Command::Generate { what } => {
            let mut cmd = Cli::command();
            let mut out = std::io::stdout();
            match what {
                GenerateCommand::Completions { shell } => {
                    clap_complete::generate(*shell, &mut cmd, "finsandbox", &mut out)
                }
                GenerateCommand::Man => {
                    clap_mangen::Man::new(cmd).render(&mut out).map_err(|e| Error::Internal(e.to_string()))?
                }
            }
            Ok(error::code::OK)
        }
    }
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

fn exec_command(cli: &Cli, args: &ExecArgs, env: &EnvMap, printer: &Printer) -> Result<i32> {
    // Registered first: a Ctrl-C during preflight must not leave anything behind either.
    let signal = install_signal_handlers()?;

    let cwd = std::env::current_dir().map_err(|e| Error::Internal(format!("no working directory: {e}")))?;
    let file = config::load_file(args.config.as_deref(), env, &cwd)?;
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
    let settings = config::resolve(file.as_ref().map(|(p, f)| (p.as_path(), f)), env, &flags, &cwd)?;
    for reason in &settings.insecure_reasons {
        printer.warn(&format!("insecure run (--allow-insecure): {reason}"));
    }
    let engine = engine::locate(cli.engine.as_deref(), env)?;
    if args.self_test {
        let t = selftest::run(&engine, &settings, Arc::clone(&signal))?;
        if !t.healthy {
            return Err(selftest::refusal(&t).into());
        }
        printer.note(&format!("self-test passed on runtime `{}` ({} checks)", t.runtime, t.checks.len()));
    }
    let request = exec::ExecRequest {
        strategy: Path::new(&args.strategy),
        data: Path::new(&args.data),
        settings: &settings,
        engine: &engine,
        signal,
        skip_screening: args.skip_screening,
        equity_out: args.equity_out.clone(),
    };
    if args.skip_screening {
        printer.warn("screening skipped (--skip-screening): the container alone must hold");
    }
    let result = exec::run(&request)?;
    printer.result(&result);
    Ok(result.status.exit_code())
}

fn validate_command(cli: &Cli, args: &ValidateArgs, env: &EnvMap) -> Result<i32> {
    let cwd = std::env::current_dir().map_err(|e| Error::Internal(format!("no working directory: {e}")))?;
    let file = config::load_file(args.config.as_deref(), env, &cwd)?;
    let policy = config::resolve_screening(file.as_ref().map(|(p, f)| (p.as_path(), f)))?;
    let mut reports = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let (name, bytes) = if path.as_os_str() == "-" {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|source| error::InputError::Strategy { path: path.clone(), source })?;
            ("<stdin>".to_string(), buf)
        } else {
            let bytes =
                std::fs::read(path).map_err(|source| error::InputError::Strategy { path: path.clone(), source })?;
            (path.display().to_string(), bytes)
        };
        let findings = screen::screen(&bytes, &policy);
        reports.push(screen::FileReport { path: name, clean: findings.is_empty(), findings });
    }
    let format = if cli.json { Format::Json } else { args.format };
    match format {
        Format::Text => print!("{}", screen::text(&reports)),
        Format::Json => println!("{}", screen::json(&reports)),
        Format::Sarif => println!("{}", screen::sarif(&reports)),
    }
    Ok(if reports.iter().all(|r| r.clean) { error::code::OK } else { error::code::REJECTED })
}

fn cleanup_command(cli: &Cli, args: &CleanupArgs, env: &EnvMap, printer: &Printer) -> Result<i32> {
    let engine = engine::locate(cli.engine.as_deref(), env)?;
    engine::preflight(&engine)?;
    let boot = exec::boot_id();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let host = cleanup::Host { boot_id: &boot, now, alive: &cleanup::process_alive };
    let opts = cleanup::Options { all: args.all, older_than: args.older_than, grace: cleanup::DEFAULT_GRACE };
    let verdicts = cleanup::sweep(&engine, &host, &opts, args.dry_run)?;
    let failed = verdicts.iter().filter(|v| v.orphan && !v.removed && !args.dry_run).count();
    if cli.json {
        println!("{}", serde_json::json!({"dry_run": args.dry_run, "containers": verdicts, "failed": failed}));
    } else {
        let orphans: Vec<_> = verdicts.iter().filter(|v| v.orphan).collect();
        for v in &orphans {
            let what = if args.dry_run {
                "would remove"
            } else if v.removed {
                "removed"
            } else {
                "FAILED to remove"
            };
            println!("{what} {} ({}, {}): {}", v.name, v.id, v.state, v.reason);
        }
        let kept = verdicts.len() - orphans.len();
        printer.note(&format!("{} orphan(s), {kept} container(s) of live runs kept", orphans.len()));
    }
    Ok(if failed > 0 { error::code::ENGINE } else { error::code::OK })
}

fn doctor_command(cli: &Cli, args: &DoctorArgs, env: &EnvMap, printer: &Printer) -> Result<i32> {
    let signal = install_signal_handlers()?;
    let cwd = std::env::current_dir().map_err(|e| Error::Internal(format!("no working directory: {e}")))?;
    let file = config::load_file(args.config.as_deref(), env, &cwd)?;
    let settings = config::resolve(file.as_ref().map(|(p, f)| (p.as_path(), f)), env, &Overrides::default(), &cwd)?;
    let engine = engine::locate(cli.engine.as_deref(), env)?;
    let info = engine::preflight(&engine)?;
    printer.note(&format!("engine: {} {} ({})", engine.name(), info.server_version, engine.program.display()));
    let image = engine::check_image(&engine, &settings.image)?;
    printer.note(&format!("image: {} ({})", settings.image, image.id));
    printer.note(&format!("seccomp profile: {}", settings.seccomp_profile.display()));
    let (default, offered) = selftest::runtimes(&engine)?;
    let wanted: Vec<String> = if args.runtime.is_empty() {
        // `io.containerd.*` entries are aliases of runc's shim, not separate tiers.
        offered.iter().filter(|r| !r.starts_with("io.containerd.")).cloned().collect()
    } else {
        args.runtime.clone()
    };
    let mut results = Vec::new();
    for rt in &wanted {
        let mut s = settings.clone();
        s.runtime = (rt != &default).then(|| rt.clone());
        let mut t = selftest::run(&engine, &s, Arc::clone(&signal))?;
        t.runtime = rt.clone();
        if !cli.json {
            let verdict = if t.healthy { "healthy" } else { "UNHEALTHY" };
            println!("runtime {rt}{}: {verdict}", if rt == &default { " (default)" } else { "" });
            for c in &t.checks {
                println!("  {:<26} {:<8} {}", c.name, if c.escaped { "ESCAPED" } else { "blocked" }, c.detail);
            }
            if let Some(e) = &t.error {
                println!("  error: {e}");
            }
        }
        results.push(t);
    }
    let healthy = results.iter().all(|t| t.healthy);
    if cli.json {
        println!(
            "{}",
            serde_json::json!({"engine": info.server_version, "image": image.id, "default_runtime": default, "healthy": healthy, "runtimes": results})
        );
    }
    Ok(if healthy { error::code::OK } else { error::code::ENGINE })
}
