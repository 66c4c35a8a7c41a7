//! Orchestrating one run: checks, the container's life, and the verdict.
//!
//! Order: read the strategy, check the data file, preflight the engine and
//! image, check the seccomp profile (fail closed), start `docker run`, stream
//! its output into bounded buffers, enforce the wall-clock deadline, inspect,
//! remove, decide. The container is removed on every path: the normal one,
//! errors (explicit removal), panics ([`ContainerGuard`]'s `Drop`), and
//! SIGINT/SIGTERM (the wait loop notices the signal flag, kills, removes, and
//! reports [`Error::Interrupted`]).
//!
//! The verdict is a pure function ([`decide`]) of what was observed, so each
//! rule is a unit test.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::engine::{self, ContainerState, Engine, ImageInfo, RunSpec};
use crate::error::{code, ConfigError, EngineError, Error, InputError};
use crate::harness::{self, Decoder, Summary, SummaryError, Tail};
use crate::position::{Position, PositionSummary};
use crate::report::{
    ContainerInfo, Limits, Output, Resources, RunResult, ScreeningInfo, Status, StrategyInfo, SCHEMA_VERSION,
};

/// Strategies are source files, not data: anything bigger is a mistake.
pub const MAX_STRATEGY_BYTES: u64 = 1 << 20;
/// The largest position payload accepted (a 3,700-day x 2,000-symbol float
/// matrix is about 60 MB as Parquet).
pub const MAX_POSITION_BYTES: usize = 256 << 20;
/// How long to wait for the engine CLI to exit after `docker kill`.
const KILL_GRACE: Duration = Duration::from_secs(15);
/// How often the wait loop looks at the signal flag and the deadline.
const TICK: Duration = Duration::from_millis(50);

pub struct ExecRequest<'a> {
    pub strategy: &'a Path,
    pub data: &'a Path,
    pub settings: &'a Settings,
    pub engine: &'a Engine,
    /// Set by the signal handlers to the signal number (0 = none).
    pub signal: Arc<AtomicUsize>,
    /// Run without screening (to test the container layer); recorded in the result.
    pub skip_screening: bool,
    /// Where to write the daily equity curve (CSV), if anywhere.
    pub equity_out: Option<std::path::PathBuf>,
}

pub fn run(req: &ExecRequest) -> Result<RunResult, Error> {
    let s = req.settings;
    let source = read_strategy(req.strategy)?;
    let screening = screen_source(&source, req);
    if !screening.findings.is_empty() {
        return Ok(rejected(req, &source, screening));
    }
    let data = crate::data::inspect(req.data)?;
    // Decode the prices now: duplicate rows or unreadable dates are input
    // errors before any container starts (the decoded matrices are cached
    // for scoring after the run).
    crate::score::load(&data.path).map_err(|message| InputError::Data { path: data.path.clone(), message })?;
    check_seccomp(&s.seccomp_profile)?;
    let engine_info = engine::preflight(req.engine)?;
    let swept = sweep_orphans(req);
    let image = engine::check_image(req.engine, &s.image)?;

    let spec = RunSpec {
        run_id: new_run_id(),
        owner_pid: std::process::id(),
        owner_start: crate::cleanup::process_start_time(std::process::id()),
        boot_id: boot_id(),
        created_at: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        data_path: data.path.clone(),
        harness: harness::SOURCE.to_string(),
        flavor: req.engine.flavor(),
    };
    let name = spec.container_name();
    let args = engine::run_args(s, &spec);
    let filename =
        req.strategy.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "strategy.py".into());
    let input = harness::request(&source, &filename, engine::DATA_TARGET, MAX_POSITION_BYTES);

    let mut guard = ContainerGuard { engine: req.engine, name: name.clone(), armed: true };
    let observed = supervise(req, &args, input, &name)?;

    let state = engine::inspect_state(req.engine, &name).ok();
    let removed = if s.cleanup_on_exit {
        match engine::remove(req.engine, &name) {
            Ok(()) => true,
            Err(e) => return Err(e.into()),
        }
    } else {
        false
    };
    guard.armed = false;

    let mut verdict = decide(&observed, state.as_ref());
    let scoring = score_position(&mut verdict, &data.path, s);
    let run = Run { spec: &spec, image: &image, engine_info: &engine_info, data: &data, removed, swept };
    let mut result = assemble(req, &run, observed, state, verdict, &source, screening);
    if let Some(sc) = scoring {
        result.warnings.extend(sc.warnings.iter().cloned());
        result.metrics = Some(sc.metrics);
        result.backtest = Some(sc.params);
        if let Some(out) = &req.equity_out {
            write_equity(out, &sc.outcome).map_err(|e| Error::Internal(format!("writing `{}`: {e}", out.display())))?;
        }
    }
    Ok(result)
}

/// What watching the container produced.
pub struct Observed {
    pub decoder: Decoder,
    pub stderr: Tail,
    /// `docker run`'s own exit code (125-127: the engine failed, not the strategy).
    pub cli_exit: Option<i32>,
    pub timed_out: bool,
    pub elapsed: Duration,
    pub monitor: crate::monitor::Report,
    /// The container's memory limit, to read a SIGKILL at the limit as an OOM kill.
    pub memory_limit: u64,
}

fn supervise(req: &ExecRequest, args: &[std::ffi::OsString], input: Vec<u8>, name: &str) -> Result<Observed, Error> {
    let s = req.settings;
    let limit = usize::try_from(s.output_limit_bytes).unwrap_or(usize::MAX);
    let (out_r, out_w) = os_pipe::pipe().map_err(|e| Error::Internal(format!("pipe: {e}")))?;
    let (err_r, err_w) = os_pipe::pipe().map_err(|e| Error::Internal(format!("pipe: {e}")))?;
    let expr = duct::cmd(&req.engine.program, args)
        .stdin_bytes(input)
        .stdout_file(out_w)
        .stderr_file(err_w)
        .unchecked()
        // Own process group: a terminal's Ctrl-C reaches finsandbox only, and
        // finsandbox decides how the container ends.
        .before_spawn(|cmd| {
            cmd.process_group(0);
            Ok(())
        });
    let started = Instant::now();
    let handle = expr.start().map_err(|e| EngineError::Command {
        command: req.engine.name() + " run",
        status: "could not start".into(),
        stderr: e.to_string(),
    })?;
    // Our copies of the pipes' write ends live in the expression: drop it so
    // the readers see end-of-file when the engine CLI exits.
    drop(expr);
    let monitor =
        crate::monitor::Monitor::start(req.engine.clone(), name.to_string(), s.monitoring.clone(), s.cpus, started);

    let out_thread = thread::spawn(move || {
        let mut d = Decoder::new(limit, MAX_POSITION_BYTES);
        pump(out_r, |chunk| d.feed(chunk));
        d.finish();
        d
    });
    let err_thread = thread::spawn(move || {
        let mut t = Tail::new(limit);
        pump(err_r, |chunk| t.push(chunk));
        t
    });

    let deadline = started + s.timeout();
    let mut timed_out = false;
    let mut interrupted = None;
    let status = loop {
        match handle.wait_timeout(TICK) {
            Ok(Some(out)) => break out.status.code(),
            Ok(None) => {}
            Err(e) => return Err(Error::Internal(format!("waiting for the engine CLI: {e}"))),
        }
        let sig = req.signal.load(Ordering::SeqCst);
        if sig != 0 && interrupted.is_none() {
            interrupted = Some(sig);
            stop(req.engine, name, &handle);
        }
        if !timed_out && interrupted.is_none() && Instant::now() >= deadline {
            timed_out = true;
            stop(req.engine, name, &handle);
        }
    };
    let elapsed = started.elapsed();
    let monitor = monitor.stop();
    let decoder = out_thread.join().map_err(|_| Error::Internal("stdout reader panicked".into()))?;
    let stderr = err_thread.join().map_err(|_| Error::Internal("stderr reader panicked".into()))?;
    if let Some(sig) = interrupted {
        // The container is killed; `run`'s guard, still armed, removes it as
        // this error propagates.
        let (name, code) = if sig == signal_hook::consts::SIGTERM as usize {
            ("SIGTERM", code::SIGTERM)
        } else if sig == signal_hook::consts::SIGHUP as usize {
            ("SIGHUP", 129)
        } else {
            ("SIGINT", code::SIGINT)
        };
        return Err(Error::Interrupted { name, code });
    }
    Ok(Observed { decoder, stderr, cli_exit: status, timed_out, elapsed, monitor, memory_limit: s.memory_bytes })
}

/// Kill the container, then make sure the engine CLI exits too.
fn stop(engine: &Engine, name: &str, handle: &duct::Handle) {
    let _ = engine::kill(engine, name);
    match handle.wait_timeout(KILL_GRACE) {
        Ok(Some(_)) => {}
        _ => {
            let _ = handle.kill();
        }
    }
}

fn pump(mut r: impl Read, mut sink: impl FnMut(&[u8])) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => sink(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The outcome of a run, decided from observations alone.
#[derive(Debug, PartialEq)]
pub struct Verdict {
    pub status: Status,
    pub error: Option<SummaryError>,
    pub position: Option<PositionSummary>,
    /// The decoded position, for the scorer.
    pub decoded: Option<Position>,
    pub summary: Option<Summary>,
}

fn err(kind: &str, message: impl Into<String>) -> Option<SummaryError> {
    Some(SummaryError { kind: kind.into(), message: message.into(), traceback: String::new() })
}

pub fn decide(o: &Observed, state: Option<&ContainerState>) -> Verdict {
    let mut v = Verdict { status: Status::Ok, error: None, position: None, decoded: None, summary: None };
    let summary = o.decoder.summary.as_deref().map(Summary::parse);
    let exit = state.map(|s| s.exit_code).or(o.cli_exit.map(i64::from));

    if o.timed_out {
        v.status = Status::Timeout;
        v.error = err("Timeout", "the run exceeded its wall-clock limit and was killed");
        return v;
    }
    if o.monitor.killed {
        v.status = Status::Killed;
        let what: Vec<String> = o
            .monitor
            .violations
            .iter()
            .map(|x| format!("{} {} over {} at {}s", x.rule, x.observed, x.threshold, x.at_s))
            .collect();
        v.error = err("PolicyKill", format!("killed by the runtime monitor: {}", what.join("; ")));
        return v;
    }
    // The engine's OOMKilled flag, the cgroup's own OOM-kill counter, or (an
    // engine that sets neither, such as podman 4 on cgroup v1) a SIGKILL with
    // the memory peak at the limit.
    let at_limit = o.monitor.memory_peak_bytes.is_some_and(|p| p as f64 >= 0.9 * o.memory_limit as f64);
    let sigkilled = exit == Some(137) || o.cli_exit == Some(137);
    if state.is_some_and(|s| s.oom_killed)
        || o.monitor.oom_kills > 0
        || (sigkilled && at_limit && o.decoder.summary.is_none())
    {
        v.status = Status::MemoryLimit;
        v.error = err("MemoryLimit", "the container hit its memory limit and was killed by the kernel");
        return v;
    }
    if let Some(Ok(sum)) = &summary {
        if sum.error.as_ref().is_some_and(|e| e.kind == "MemoryError") {
            v.status = Status::MemoryLimit;
            v.error = sum.error.clone();
            v.summary = Some(sum.clone());
            return v;
        }
    }
    // 125: the engine could not create or start the container; 126/127: the
    // image's command could not run. Neither is the strategy's doing.
    if summary.is_none() && matches!(o.cli_exit, Some(125..=127)) {
        v.status = Status::EngineError;
        v.error = err("EngineError", first_lines(&o.stderr.text(), 5));
        return v;
    }
    if let Some(why) = &o.decoder.corrupt {
        v.status = Status::InvalidOutput;
        v.error = err("InvalidOutput", format!("the output channel was tampered with or corrupted: {why}"));
        return v;
    }
    let sum = match summary {
        Some(Ok(s)) => s,
        Some(Err(why)) => {
            v.status = Status::InvalidOutput;
            v.error = err("InvalidOutput", why);
            return v;
        }
        None => {
            let code = exit.unwrap_or(-1);
            if code == 0 {
                v.status = Status::InvalidOutput;
                v.error = err("InvalidOutput", "the process exited without sending a result");
            } else {
                v.status = Status::StrategyError;
                let how =
                    if code == 137 { "was killed (SIGKILL)".to_string() } else { format!("exited with code {code}") };
                v.error = err("ProcessExit", format!("the strategy process {how} before sending a result"));
            }
            return v;
        }
    };
    v.summary = Some(sum.clone());
    match sum.status.as_str() {
        "strategy_error" => {
            v.status = Status::StrategyError;
            v.error = sum.error.clone();
        }
        "invalid_output" => {
            v.status = Status::InvalidOutput;
            v.error = sum.error.clone();
        }
        "harness_error" => {
            v.status = Status::EngineError;
            let mut e = sum.error.clone().unwrap_or_else(|| SummaryError {
                kind: "HarnessError".into(),
                message: "no details".into(),
                traceback: String::new(),
            });
            e.message = format!("the sandbox harness failed before the strategy ran: {}", e.message);
            v.error = Some(e);
        }
        _ => {
            if exit.is_some_and(|c| c != 0) {
                v.status = Status::InvalidOutput;
                v.error = err("InvalidOutput", format!("a success summary but exit code {}", exit.unwrap_or(-1)));
                return v;
            }
            match o.decoder.position.clone().map(Position::decode) {
                Some(Ok(p)) => {
                    v.position = Some(p.summary());
                    v.decoded = Some(p);
                }
                Some(Err(why)) => {
                    v.status = Status::InvalidOutput;
                    v.error = err("InvalidOutput", why);
                }
                None => {
                    v.status = Status::InvalidOutput;
                    v.error = err("InvalidOutput", "a success summary without a position");
                }
            }
        }
    }
    v
}

fn first_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).take(n).collect();
    if lines.is_empty() {
        "the engine failed to start the container (no message)".into()
    } else {
        lines.join("\n")
    }
}

/// What scoring produced for a successful run.
struct Scored {
    metrics: crate::score::Metrics,
    params: crate::report::BacktestParams,
    outcome: crate::score::Outcome,
    warnings: Vec<String>,
}

/// Score an `ok` run's position against the data file, read here on the
/// host. The backtest parameters the strategy passed to `sim(...)` shape the
/// strategy (resample, stops, caps, trade price); the costs are the host's
/// (`scoring.fee_ratio`, `scoring.tax_ratio`): a strategy may raise them,
/// never lower them, or it could buy itself a better score.
fn score_position(v: &mut Verdict, data: &Path, s: &Settings) -> Option<Scored> {
    let position = v.decoded.take().filter(|_| v.status == Status::Ok)?;
    let mut warnings = Vec::new();
    let sim = v.summary.as_ref().and_then(|x| x.sim_params.clone()).unwrap_or_default();
    let params = match crate::score::params_from_sim(&sim, s.fee_ratio, s.tax_ratio, &mut warnings) {
        Ok(p) => p,
        Err(why) => {
            v.status = Status::InvalidOutput;
            v.error = err("InvalidOutput", why);
            return None;
        }
    };
    let market = match crate::score::load(data) {
        Ok(m) => m,
        Err(why) => {
            v.status = Status::EngineError;
            v.error = err("ScoringError", format!("the host could not read the market data for scoring: {why}"));
            return None;
        }
    };
    match crate::score::run(&market, &position, &params) {
        Ok(outcome) => {
            warnings.extend(outcome.warnings.iter().cloned());
            let metrics = crate::score::compute(&outcome, &mut warnings);
            Some(Scored { metrics, params: crate::report::BacktestParams::from(&params), outcome, warnings })
        }
        Err(why) => {
            v.status = Status::InvalidOutput;
            v.error = err("InvalidOutput", format!("the position cannot be backtested: {why}"));
            None
        }
    }
}

/// The daily equity curve: Parquet (`date` DATE, `equity` DOUBLE) when the
/// file name ends in `.parquet`, else CSV (`date,equity`).
fn write_equity(path: &Path, o: &crate::score::Outcome) -> std::io::Result<()> {
    use std::io::Write;
    if path.extension().is_some_and(|x| x == "parquet") {
        return crate::sample::write_series(path, &o.dates, "equity", &o.equity).map_err(std::io::Error::other);
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "date,equity")?;
    for (d, e) in o.dates.iter().zip(&o.equity) {
        writeln!(f, "{},{e}", crate::position::iso_date(*d))?;
    }
    f.flush()
}

/// Remove orphans of earlier runs (one `docker ps` when there are none).
/// Returns warnings for the result; a failed sweep never stops the run.
fn sweep_orphans(req: &ExecRequest) -> Vec<String> {
    let s = req.settings;
    if !s.sweep_on_start {
        return Vec::new();
    }
    let boot = boot_id();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let host = crate::cleanup::Host { boot_id: &boot, now, alive: &crate::cleanup::process_alive };
    let opts =
        crate::cleanup::Options { all: false, older_than: None, grace: Duration::from_secs(s.cleanup_grace_seconds) };
    match crate::cleanup::sweep(req.engine, &host, &opts, false) {
        Ok(v) => {
            let orphans: Vec<&crate::cleanup::Verdict> = v.iter().filter(|x| x.orphan).collect();
            let mut w = Vec::new();
            if !orphans.is_empty() {
                let removed = orphans.iter().filter(|x| x.removed).count();
                w.push(format!("removed {removed} of {} orphaned container(s) left by earlier runs", orphans.len()));
            }
            if orphans.len() > s.alert_on_orphaned_containers {
                w.push(format!(
                    "{} orphaned containers found (alert threshold {}): runs are dying without cleaning up",
                    orphans.len(),
                    s.alert_on_orphaned_containers
                ));
            }
            w
        }
        Err(e) => vec![format!("orphan sweep failed: {e}")],
    }
}

/// Screen the source unless told not to. Strategies that are not valid
/// UTF-8 never get here (`read_strategy` refuses them).
fn screen_source(source: &str, req: &ExecRequest) -> ScreeningInfo {
    if req.skip_screening {
        return ScreeningInfo { skipped: true, findings: Vec::new(), elapsed_ms: 0.0 };
    }
    let start = Instant::now();
    let findings = crate::screen::screen(source.as_bytes(), &req.settings.screening);
    ScreeningInfo { skipped: false, findings, elapsed_ms: round3(start.elapsed().as_secs_f64() * 1000.0) }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The facts of a run that happened, for [`assemble`].
struct Run<'a> {
    spec: &'a RunSpec,
    image: &'a ImageInfo,
    engine_info: &'a engine::EngineInfo,
    data: &'a crate::data::DataInfo,
    removed: bool,
    /// Warnings from the orphan sweep at the start.
    swept: Vec<String>,
}

fn limits(s: &Settings) -> Limits {
    Limits {
        memory_bytes: s.memory_bytes,
        memory_swap_bytes: s.memory_swap_bytes,
        cpus: s.cpus,
        timeout_seconds: s.timeout_seconds,
        pids_limit: s.pids_limit,
        network_mode: s.network_mode.clone(),
        read_only: s.read_only,
        tmpfs_bytes: s.tmpfs.size_bytes,
        seccomp_profile: s.seccomp_profile.display().to_string(),
        output_limit_bytes: s.output_limit_bytes,
    }
}

fn base_versions() -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        ("finsandbox".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("harness_protocol".to_string(), harness::PROTOCOL_STR.to_string()),
    ])
}

fn empty_output() -> Output {
    Output { text: String::new(), truncated: false, bytes: 0 }
}

/// The result for a strategy the screening refused: no container started.
fn rejected(req: &ExecRequest, source: &str, screening: ScreeningInfo) -> RunResult {
    let s = req.settings;
    let n = screening.findings.len();
    let first = &screening.findings[0];
    RunResult {
        schema_version: SCHEMA_VERSION,
        run_id: new_run_id(),
        status: Status::Rejected,
        success: false,
        exit_code: None,
        execution_time_s: 0.0,
        memory_peak_mb: None,
        memory_peak_source: None,
        resources: None,
        violations: Vec::new(),
        metrics: None,
        backtest: None,
        stdout: empty_output(),
        stderr: empty_output(),
        error: Some(SummaryError {
            kind: "Rejected".into(),
            message: format!(
                "screening found {n} problem(s); first: {} at line {}: {}",
                first.rule.id(),
                first.line,
                first.message
            ),
            traceback: String::new(),
        }),
        position: None,
        screening,
        container: None,
        limits: limits(s),
        insecure: !s.insecure_reasons.is_empty(),
        insecure_reasons: s.insecure_reasons.clone(),
        versions: base_versions(),
        strategy: StrategyInfo {
            path: req.strategy.display().to_string(),
            sha256: hex_sha256(source.as_bytes()),
            data: req.data.display().to_string(),
            data_rows: None,
            data_fields: Vec::new(),
        },
        warnings: Vec::new(),
    }
}

fn assemble(
    req: &ExecRequest,
    run: &Run,
    o: Observed,
    state: Option<ContainerState>,
    v: Verdict,
    source: &str,
    screening: ScreeningInfo,
) -> RunResult {
    let s = req.settings;
    let (spec, image, removed, data) = (run.spec, run.image, run.removed, run.data);
    let mut versions = base_versions();
    versions.extend(image.labels.iter().filter_map(|(k, val)| {
        k.strip_prefix(crate::image::LABEL_VERSION_PREFIX).map(|n| (n.to_string(), val.clone()))
    }));
    let mut warnings = run.swept.clone();
    if let Some(sum) = &v.summary {
        warnings.extend(sum.warnings.iter().cloned());
    }
    if o.decoder.stdout.truncated() {
        warnings.push(format!(
            "stdout was {} bytes; only the last {} were kept",
            o.decoder.stdout.total(),
            s.output_limit_bytes
        ));
    }
    if o.stderr.truncated() {
        warnings.push(format!(
            "stderr was {} bytes; only the last {} were kept",
            o.stderr.total(),
            s.output_limit_bytes
        ));
    }
    if !removed {
        warnings.push(format!(
            "container `{}` was kept (cleanup_on_exit: false); remove it with `docker rm`",
            spec.container_name()
        ));
    }
    // The kernel's own peak when the cgroup was readable, else the highest
    // `docker stats` sample, else what the harness measured of itself.
    let (memory_peak_mb, memory_peak_source) = match (o.monitor.memory_peak_bytes, o.monitor.memory_peak_source) {
        (Some(b), Some(src)) => (Some(b as f64 / 1048576.0), Some(src)),
        _ => match v.summary.as_ref().and_then(|s| s.max_rss_kb) {
            Some(kb) => (Some(kb as f64 / 1024.0), Some("harness_rusage")),
            None => (None, None),
        },
    };
    let status = v.status;
    RunResult {
        schema_version: SCHEMA_VERSION,
        run_id: spec.run_id.clone(),
        status,
        success: status == Status::Ok,
        exit_code: state.as_ref().map(|st| st.exit_code).or(o.cli_exit.map(i64::from)),
        execution_time_s: round3(o.elapsed.as_secs_f64()),
        memory_peak_mb: memory_peak_mb.map(|m| (m * 10.0).round() / 10.0),
        memory_peak_source,
        resources: Some(Resources {
            cpu_seconds: o.monitor.cpu_seconds.map(round3),
            pids_peak: o.monitor.pids_peak,
            samples: o.monitor.samples,
        }),
        violations: o.monitor.violations.clone(),
        metrics: None,
        backtest: None,
        stdout: Output {
            text: o.decoder.stdout.text(),
            truncated: o.decoder.stdout.truncated(),
            bytes: o.decoder.stdout.total(),
        },
        stderr: Output { text: o.stderr.text(), truncated: o.stderr.truncated(), bytes: o.stderr.total() },
        error: v.error,
        position: v.position,
        screening,
        container: Some(ContainerInfo {
            name: spec.container_name(),
            image: s.image.clone(),
            image_id: Some(image.id.clone()),
            runtime: s.runtime.clone().unwrap_or_else(|| "default".into()),
            engine: req.engine.name(),
            engine_version: run.engine_info.server_version.clone(),
            removed,
        }),
        limits: limits(s),
        insecure: !s.insecure_reasons.is_empty(),
        insecure_reasons: s.insecure_reasons.clone(),
        versions,
        strategy: StrategyInfo {
            path: req.strategy.display().to_string(),
            sha256: hex_sha256(source.as_bytes()),
            data: data.path.display().to_string(),
            data_rows: Some(data.rows),
            data_fields: data.fields.clone(),
        },
        warnings,
    }
}

/// Removes the container if the run unwinds (a panic) before `run` disarms it.
struct ContainerGuard<'a> {
    engine: &'a Engine,
    name: String,
    armed: bool,
}

impl Drop for ContainerGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = engine::remove(self.engine, &self.name);
        }
    }
}

fn read_strategy(path: &Path) -> Result<String, InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Strategy { path: path.to_path_buf(), source })?;
    if meta.len() > MAX_STRATEGY_BYTES {
        return Err(InputError::StrategyTooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit: MAX_STRATEGY_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| InputError::Strategy { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|_| InputError::StrategyEncoding { path: path.to_path_buf() })
}

/// The profile must exist and be a JSON object with a default action: Docker
/// would refuse it anyway, but checking first gives a clear message, and an
/// unreadable profile must never mean "no profile".
fn check_seccomp(path: &Path) -> Result<(), ConfigError> {
    if path.as_os_str() == "unconfined" {
        return Ok(()); // only reachable with --allow-insecure, recorded in the result
    }
    let bad = |message: String| ConfigError::Seccomp { path: path.to_path_buf(), message };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    if v.get("defaultAction").and_then(|a| a.as_str()).is_none() {
        return Err(bad("no `defaultAction`".into()));
    }
    Ok(())
}

fn new_run_id() -> String {
    let mut b = [0u8; 8];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).is_ok();
    if !filled {
        // Unique enough without /dev/urandom: time and pid.
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        b = ((t as u64) ^ (u64::from(std::process::id()) << 40)).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Decoder;

    fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = b"FSB".to_vec();
        v.push(kind);
        v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn observed(stream: &[u8], cli_exit: i32, timed_out: bool) -> Observed {
        let mut d = Decoder::new(1024, 1 << 20);
        d.feed(stream);
        d.finish();
        Observed {
            decoder: d,
            stderr: Tail::new(1024),
            cli_exit: Some(cli_exit),
            timed_out,
            elapsed: Duration::from_secs(1),
            monitor: crate::monitor::Report::default(),
            memory_limit: 256 << 20,
        }
    }

    fn state(exit: i64, oom: bool) -> ContainerState {
        ContainerState { exit_code: exit, oom_killed: oom }
    }

    fn ok_stream() -> Vec<u8> {
        let pos =
            crate::position::testutil::write(&[1, 2], &[crate::position::testutil::Col::B("A", vec![true, false])]);
        let mut s = frame(b'P', &pos);
        s.extend(frame(b'R', br#"{"protocol":1,"status":"ok"}"#));
        s
    }

    #[test]
    fn ok_with_a_valid_position() {
        let v = decide(&observed(&ok_stream(), 0, false), Some(&state(0, false)));
        assert_eq!(v.status, Status::Ok);
        assert_eq!(v.position.map(|p| (p.rows, p.columns)), Some((2, 1)));
    }

    #[test]
    fn timeout_wins_over_everything() {
        let v = decide(&observed(&ok_stream(), 137, true), Some(&state(137, false)));
        assert_eq!(v.status, Status::Timeout);
    }

    #[test]
    fn a_policy_kill_is_killed_with_its_violations() {
        let mut o = observed(b"", 137, false);
        o.monitor.killed = true;
        o.monitor.violations.push(crate::monitor::Violation {
            rule: "pids",
            observed: 95.0,
            threshold: 90.0,
            at_s: 2.0,
        });
        let v = decide(&o, Some(&state(137, false)));
        assert_eq!(v.status, Status::Killed);
        assert!(v.error.map(|e| e.message).unwrap_or_default().contains("pids"));
    }

    #[test]
    fn oom_flag_means_memory_limit() {
        let v = decide(&observed(b"", 137, false), Some(&state(137, true)));
        assert_eq!(v.status, Status::MemoryLimit);
    }

    #[test]
    fn cgroup_oom_counter_means_memory_limit() {
        let mut o = observed(b"", 137, false);
        o.monitor.oom_kills = 1;
        assert_eq!(decide(&o, Some(&state(137, false))).status, Status::MemoryLimit);
    }

    #[test]
    fn sigkill_at_the_memory_limit_means_memory_limit() {
        let mut o = observed(b"", 137, false);
        o.monitor.memory_peak_bytes = Some(250 << 20);
        assert_eq!(decide(&o, Some(&state(137, false))).status, Status::MemoryLimit);
        o.monitor.memory_peak_bytes = Some(100 << 20);
        assert_eq!(decide(&o, Some(&state(137, false))).status, Status::StrategyError, "far below the limit");
    }

    #[test]
    fn python_memory_error_means_memory_limit() {
        let s = frame(
            b'R',
            br#"{"protocol":1,"status":"strategy_error","error":{"type":"MemoryError","message":"","traceback":""}}"#,
        );
        let v = decide(&observed(&s, 1, false), Some(&state(1, false)));
        assert_eq!(v.status, Status::MemoryLimit);
    }

    #[test]
    fn strategy_exception_is_strategy_error_with_traceback() {
        let s = frame(b'R', br#"{"protocol":1,"status":"strategy_error","error":{"type":"ValueError","message":"bad","traceback":"Traceback..."}}"#);
        let v = decide(&observed(&s, 1, false), Some(&state(1, false)));
        assert_eq!(v.status, Status::StrategyError);
        assert_eq!(v.error.map(|e| e.traceback), Some("Traceback...".into()));
    }

    #[test]
    fn engine_failure_to_start_is_engine_error() {
        let mut o = observed(b"", 125, false);
        o.stderr.push(b"docker: Error response from daemon: invalid seccomp profile\n");
        let v = decide(&o, None);
        assert_eq!(v.status, Status::EngineError);
        assert!(v.error.map(|e| e.message).unwrap_or_default().contains("seccomp"));
    }

    #[test]
    fn forged_bytes_on_the_channel_are_invalid_output() {
        let mut s = b"{\"sharpe_ratio\": 42}".to_vec();
        s.extend(ok_stream());
        let v = decide(&observed(&s, 0, false), Some(&state(0, false)));
        assert_eq!(v.status, Status::InvalidOutput);
    }

    #[test]
    fn exit_without_summary() {
        assert_eq!(decide(&observed(b"", 0, false), Some(&state(0, false))).status, Status::InvalidOutput);
        assert_eq!(decide(&observed(b"", 3, false), Some(&state(3, false))).status, Status::StrategyError);
    }

    #[test]
    fn success_summary_without_position_is_invalid_output() {
        let s = frame(b'R', br#"{"protocol":1,"status":"ok"}"#);
        assert_eq!(decide(&observed(&s, 0, false), Some(&state(0, false))).status, Status::InvalidOutput);
    }

    #[test]
    fn success_summary_with_nonzero_exit_is_invalid_output() {
        assert_eq!(decide(&observed(&ok_stream(), 1, false), Some(&state(1, false))).status, Status::InvalidOutput);
    }

    #[test]
    fn garbage_position_is_invalid_output() {
        let mut s = frame(b'P', b"PAR1 not really PAR1");
        s.extend(frame(b'R', br#"{"protocol":1,"status":"ok"}"#));
        assert_eq!(decide(&observed(&s, 0, false), Some(&state(0, false))).status, Status::InvalidOutput);
    }

    #[test]
    fn harness_failure_is_engine_error() {
        let s = frame(
            b'R',
            br#"{"protocol":1,"status":"harness_error","error":{"type":"OSError","message":"no data","traceback":""}}"#,
        );
        let v = decide(&observed(&s, 3, false), Some(&state(3, false)));
        assert_eq!(v.status, Status::EngineError);
    }

    #[test]
    fn run_ids_are_16_hex_and_distinct() {
        let a = new_run_id();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, new_run_id());
    }

    #[test]
    fn missing_seccomp_profile_fails_closed() {
        let err = check_seccomp(Path::new("/nonexistent/profile.json")).expect_err("missing");
        assert!(err.to_string().contains("cannot read"));
    }
}
