//! One run, as a pipeline: read → screen → inspect data → preflight → start
//! → supervise → decide → score → result. [`run`] below is the table of
//! contents; each stage is a function or a file of its own:
//!
//! * `supervise.rs`: the `docker run` child, the output pumps, the deadline
//!   and the signals;
//! * `verdict.rs`: [`decide`], a pure chain of small rules from what was
//!   observed to a status;
//! * `scoring.rs`: the host's backtest of the returned position;
//! * `result.rs`: the one builder of a [`RunResult`].
//!
//! The container is removed on every path: the normal one, errors (explicit
//! removal), panics (the engine's `ContainerGuard`), and SIGINT/SIGTERM (the
//! supervisor notices the signal flag, kills, and reports
//! [`Error::Interrupted`] while the guard removes). Nothing here prints: the
//! caller (a command) renders the result, so more than one command can
//! drive the pipeline.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::engine::{self, Engine, RunSpec};
use crate::error::{Error, InputError};
use crate::harness;
use crate::host;
use crate::report::{RunResult, ScreeningInfo};

pub mod result;
pub(crate) mod scoring;
mod supervise;
mod verdict;

pub use supervise::{interrupted_by, Gate, Observed, Permits};
pub use verdict::{decide, Verdict};

/// Strategies are source files, not data: anything bigger is a mistake.
pub const MAX_STRATEGY_BYTES: u64 = 1 << 20;
/// The largest position payload accepted (a 3,700-day x 2,000-symbol float
/// matrix is about 60 MB as Parquet).
pub const MAX_POSITION_BYTES: usize = 256 << 20;

/// Everything one run needs.
pub struct Request<'a> {
    pub strategy: &'a Path,
    pub data: &'a Path,
    pub settings: &'a Settings,
    pub engine: &'a Engine,
    /// Set by the signal handlers to the signal number (0 = none).
    pub signal: Arc<AtomicUsize>,
    /// Run without screening (to test the container layer); recorded in the result.
    pub skip_screening: bool,
    /// Where to write the daily equity curve (CSV or Parquet), if anywhere.
    pub equity_out: Option<PathBuf>,
    /// `start_date` / `end_date` as the strategy sees them (`--start`,
    /// `--end`); `None`: the data's own range.
    pub start: Option<String>,
    pub end: Option<String>,
    /// The in-interpreter audit-hook layer (on unless `--no-runtime-policy`,
    /// which is recorded in the result).
    pub runtime_policy: bool,
    /// The scheduled batch (`batch worker`) the run belongs to: labelled on
    /// its container, so `batch cancel` can reap it.
    pub batch_run: Option<String>,
}

impl<'a> Request<'a> {
    /// A run with every protection on and nothing extra: screening and the
    /// runtime policy on, no equity file, the data's own date range, no
    /// scheduled batch. Callers change what differs with `..`.
    pub fn new(
        strategy: &'a Path,
        data: &'a Path,
        settings: &'a Settings,
        engine: &'a Engine,
        signal: Arc<AtomicUsize>,
    ) -> Request<'a> {
        Request {
            strategy,
            data,
            settings,
            engine,
            signal,
            skip_screening: false,
            equity_out: None,
            start: None,
            end: None,
            runtime_policy: true,
            batch_run: None,
        }
    }
}

/// The code that runs (and is screened) and the host's notes on it: a
/// notebook's code cells in order, a script without its IPython magics.
pub struct Source {
    pub code: String,
    pub warnings: Vec<String>,
}

/// Read the strategy and prepare what will run: exactly what screening sees.
pub fn load_source(path: &Path) -> Result<Source, InputError> {
    let raw = read_strategy(path)?;
    let prepared = crate::notebook::prepare(path, &raw)
        .map_err(|message| InputError::Notebook { path: path.to_path_buf(), message })?;
    Ok(Source { code: prepared.code, warnings: prepared.warnings })
}

impl Request<'_> {
    /// The same run for another strategy file (a batch's slots).
    pub fn for_strategy<'b>(&'b self, strategy: &'b Path) -> Request<'b> {
        Request {
            strategy,
            data: self.data,
            settings: self.settings,
            engine: self.engine,
            signal: Arc::clone(&self.signal),
            skip_screening: self.skip_screening,
            equity_out: None,
            start: self.start.clone(),
            end: self.end.clone(),
            runtime_policy: self.runtime_policy,
            batch_run: self.batch_run.clone(),
        }
    }
}

pub fn run(req: &Request) -> Result<RunResult, Error> {
    let source = load_source(req.strategy)?;
    let screening = screen_source(&source.code, req);
    let mut result = if screening.findings.is_empty() {
        let data = inspect_data(req.data)?;
        let pre = preflight(req, req.settings.sweep_on_start)?;
        execute(req, &source.code, screening, &data, &pre, None)?
    } else {
        rejected(req, &source.code, screening)
    };
    result.warnings.extend(source.warnings);
    Ok(result)
}

/// The result for a strategy the screening refused: no container started.
pub fn rejected(req: &Request, source: &str, screening: ScreeningInfo) -> RunResult {
    result::rejected(req, source, screening)
}

/// A screened strategy on checked data, after preflight: stage, start,
/// supervise, decide, score, result. A batch calls this once per strategy
/// with one preflight for all, and a [`Gate`] that holds the container warm
/// at READY until one of the batch's running strategies has ended.
pub fn execute(
    req: &Request,
    source: &str,
    screening: ScreeningInfo,
    data: &crate::data::DataInfo,
    pre: &Preflight,
    gate: Option<Gate>,
) -> Result<RunResult, Error> {
    let data_sha256 = crate::stage::content_sha256(&data.path)
        .map_err(|e| InputError::Data { path: data.path.clone(), message: format!("cannot read: {e}") })?;
    let profile = materialise_profile(req.settings)?;
    let mut spec = run_spec(req, data, profile.as_ref().map(|f| f.path().to_path_buf()));
    spec.startup_cpus = warm_up_cpus(req);
    spec.hold_seconds = gate.as_ref().map_or(0, |g| g.hold.as_secs());
    let staged = crate::stage::stage(&data.path, &spec.run_id)
        .map_err(|e| Error::Internal(format!("staging the data tables for the container: {e}")))?;
    spec.data_path = staged.source.clone();
    spec.cidfile = Some(staged.cidfile());
    let (observed, state, removed) = start_and_supervise(req, &spec, source, gate, staged.dir())?;
    let mut verdict = decide(&observed, state.as_ref());
    let scored = scoring::score(&mut verdict, &data.path, req.settings);
    let facts = result::Facts { spec: &spec, pre, data, removed, source, screening, data_sha256 };
    let mut result = result::assemble(req, &facts, observed, state, verdict);
    if let Some(sc) = scored {
        if let Some(out) = &req.equity_out {
            scoring::write_equity(out, &sc.outcome)
                .map_err(|e| Error::Internal(format!("writing `{}`: {e}", out.display())))?;
        }
        result::add_scores(&mut result, sc);
    }
    Ok(result)
}

/// Screen the source unless told not to. Strategies that are not valid
/// UTF-8 never get here (`read_strategy` refuses them).
pub fn screen_source(source: &str, req: &Request) -> ScreeningInfo {
    if req.skip_screening {
        return ScreeningInfo { skipped: true, findings: Vec::new(), elapsed_ms: 0.0 };
    }
    let start = Instant::now();
    let findings = crate::screen::screen(source.as_bytes(), &req.settings.screening);
    ScreeningInfo { skipped: false, findings, elapsed_ms: result::round3(start.elapsed().as_secs_f64() * 1000.0) }
}

/// The data file's layout, and its prices decoded now: duplicate rows or
/// unreadable dates are input errors before any container starts (the
/// decoded matrices are cached for scoring after the run).
pub fn inspect_data(path: &Path) -> Result<crate::data::DataInfo, Error> {
    let data = crate::data::inspect(path)?;
    crate::score::load(&data.path).map_err(|message| InputError::Data { path: data.path.clone(), message })?;
    Ok(data)
}

/// What preflight learnt, for the result.
pub struct Preflight {
    pub engine: engine::EngineInfo,
    pub image: crate::image::ImageInfo,
    /// Warnings from the orphan sweep.
    pub swept: Vec<String>,
}

/// The engine, orphans of earlier runs (when `sweep`), the image.
pub fn preflight(req: &Request, sweep: bool) -> Result<Preflight, Error> {
    let engine = engine::preflight(req.engine)?;
    let swept = if sweep { sweep_orphans(req) } else { Vec::new() };
    let image = crate::image::check_image(req.engine, &req.settings.image)?;
    Ok(Preflight { engine, image, swept })
}

/// The CPU limit of the trusted warm-up, when it may exceed the run's:
/// only where the engine can change a running container's quota (Docker
/// with runc; not gVisor, whose runsc has no `update`, nor Podman here),
/// elsewhere the container starts at the run's limit. `None`: no boost.
fn warm_up_cpus(req: &Request) -> Option<f64> {
    let s = req.settings;
    let updatable = req.engine.flavor() == engine::Flavor::Docker && s.runtime.as_deref().is_none_or(|r| r == "runc");
    let host = std::thread::available_parallelism().map(|n| n.get() as f64).unwrap_or(1.0);
    let startup = s.startup_cpus.unwrap_or(host);
    (updatable && startup > s.cpus + 1e-9).then_some(startup)
}

/// The profile the settings judged, written to a private file for the
/// engine CLI to read (the embedded one needs a file too). The file lives
/// as long as the run.
fn materialise_profile(s: &Settings) -> Result<Option<tempfile::NamedTempFile>, Error> {
    let Some(json) = &s.seccomp_json else { return Ok(None) };
    let write = || -> std::io::Result<tempfile::NamedTempFile> {
        let mut f = tempfile::Builder::new().prefix("finsandbox-seccomp-").suffix(".json").tempfile()?;
        std::io::Write::write_all(&mut f, json.as_bytes())?;
        Ok(f)
    };
    write().map(Some).map_err(|e| Error::Internal(format!("writing the seccomp profile for the engine: {e}")))
}

fn run_spec(req: &Request, data: &crate::data::DataInfo, seccomp_file: Option<PathBuf>) -> RunSpec {
    RunSpec {
        run_id: host::new_run_id(),
        owner_pid: std::process::id(),
        owner_start: host::process_start_time(std::process::id()),
        boot_id: host::boot_id(),
        created_at: host::now_unix(),
        data_path: data.path.clone(),
        harness: harness::SOURCE.to_string(),
        flavor: req.engine.flavor(),
        seccomp_file,
        startup_cpus: None,
        hold_seconds: 0,
        batch_run: req.batch_run.clone(),
        cidfile: None,
    }
}

/// Start the container, watch it to its end, inspect it, remove it (unless
/// kept). The guard removes it on any early exit.
fn start_and_supervise(
    req: &Request,
    spec: &RunSpec,
    source: &str,
    gate: Option<Gate>,
    workdir: &Path,
) -> Result<(Observed, Option<engine::ContainerState>, bool), Error> {
    let name = spec.container_name();
    let args = engine::run_args(req.settings, spec);
    let filename =
        req.strategy.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "strategy.py".into());
    // The host says where the prices are (one alias table for both sides)
    // and what the pre-bound names hold.
    let prices = crate::score::price_spec(&spec.data_path)
        .map_err(|message| InputError::Data { path: spec.data_path.clone(), message })?;
    let context = harness::RunContext {
        start_date: req.start.clone(),
        end_date: req.end.clone(),
        fee_ratio: req.settings.fee_ratio,
        tax_ratio: req.settings.tax_ratio,
    };
    let policy = harness::Policy { on: req.runtime_policy, allowed_imports: &req.settings.screening.allowed_imports };
    let parts =
        harness::request_parts(source, &filename, engine::DATA_TARGET, MAX_POSITION_BYTES, &prices, &context, &policy);

    let mut guard = engine::ContainerGuard::new(req.engine, &name);
    let observed = supervise::supervise(req, spec, &args, parts, gate, workdir)?;
    let state = engine::inspect_state(req.engine, &name).ok();
    let removed = req.settings.cleanup_on_exit;
    if removed {
        engine::remove(req.engine, &name)?;
    }
    guard.disarm();
    Ok((observed, state, removed))
}

/// Remove orphans of earlier runs (one `docker ps` when there are none).
/// Returns warnings for the result; a failed sweep never stops the run.
fn sweep_orphans(req: &Request) -> Vec<String> {
    let s = req.settings;
    let boot = host::boot_id();
    let host = crate::cleanup::Host { boot_id: &boot, now: host::now_unix(), alive: &host::process_alive };
    let opts =
        crate::cleanup::Options { all: false, older_than: None, grace: Duration::from_secs(s.cleanup_grace_seconds) };
    match crate::cleanup::sweep(req.engine, &host, &opts, false) {
        Ok(v) => crate::cleanup::sweep_warnings(&v, s.alert_on_orphaned_containers),
        Err(e) => vec![format!("orphan sweep failed: {e}")],
    }
}

pub fn read_strategy(path: &Path) -> Result<String, InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Strategy { path: path.to_path_buf(), source })?;
    if meta.len() > MAX_STRATEGY_BYTES {
        return Err(InputError::StrategyTooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit: MAX_STRATEGY_BYTES,
        });
    }
    // A regular file only, read to the limit: `/dev/zero` or a FIFO named
    // as the strategy is an immediate error, never an endless read or a hang.
    let bytes = crate::fsread::read_regular(path, MAX_STRATEGY_BYTES)
        .map_err(|source| InputError::Strategy { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|_| InputError::StrategyEncoding { path: path.to_path_buf() })
}
