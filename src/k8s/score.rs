//! `finsandbox k8s score`: the trusted side of a rendered Pod.
//!
//! The init container ran the strategy and left two files on the shared
//! `work` volume: `frames` (the harness's stdout) and `exit-code` (what the
//! launcher saw). The strategy could have written either itself, so both
//! are read as hostile bytes: through [`crate::fsread`] (regular files only,
//! never a FIFO or a device), under a size cap checked before reading, and
//! decoded by the same bounded [`Decoder`] a local run uses. A missing or
//! garbled exit code is only "unknown". The verdict is [`run::decide`]'s and
//! the metrics come from [`run::scoring`] on the market data mounted here,
//! exactly as a local `exec` decides and scores; the strategy never reports
//! its own score.
//!
//! What this side trusts: the ConfigMap (rendered by `k8s render`, mounted
//! read-only; `settings.json` holds the settings the render used and each
//! strategy's sha256), the data claim (read-only), and its own image. What
//! it cannot know and so never claims: a timeout (the launcher's backstop
//! SIGKILL and a strategy's own SIGKILL both exit 137), the strategy's
//! times, its memory peak (unless the harness reported it) and its stderr
//! (the container's log).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Settings;
use crate::error::{ConfigError, Error, InputError};
use crate::harness::{Decoder, Tail};
use crate::report::{RunResult, ScreeningInfo};
use crate::run::{self, Observed, MAX_POSITION_BYTES};

/// The ConfigMap file with the settings the render used.
pub const SETTINGS_FILE: &str = "settings.json";
/// The most a termination message may hold (the kubelet truncates there).
pub const TERMINATION_LOG_BYTES: usize = 4096;
/// Frames hold the position, the summary and the strategy's stdout: never
/// more than the `work` volume's size limit.
pub const MAX_FRAMES_BYTES: u64 = MAX_POSITION_BYTES as u64 + super::limits::WORK_SLACK_BYTES;
/// An exit code is a short decimal line.
const MAX_EXIT_CODE_BYTES: u64 = 32;

/// The settings a render used that scoring and the result need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreSettings {
    pub finsandbox: String,
    pub config_sha256: String,
    pub seccomp_sha256: Option<String>,
    pub image: String,
    pub memory_bytes: u64,
    pub memory_swap_bytes: u64,
    pub cpus: f64,
    pub timeout_seconds: u64,
    pub pids_limit: u32,
    pub tmpfs_bytes: u64,
    pub output_limit_bytes: u64,
    pub fee_ratio: f64,
    pub tax_ratio: f64,
    pub min_window_days: usize,
    /// The sha256 of each rendered strategy's code, by completion index.
    pub strategy_sha256: Vec<String>,
}

impl ScoreSettings {
    pub fn of(s: &Settings, strategies: &[super::Strategy]) -> ScoreSettings {
        let p = run::result::base_provenance(s, "", None);
        ScoreSettings {
            finsandbox: env!("CARGO_PKG_VERSION").into(),
            config_sha256: p.config_sha256,
            seccomp_sha256: p.seccomp_sha256,
            image: s.image.clone(),
            memory_bytes: s.memory_bytes,
            memory_swap_bytes: s.memory_swap_bytes,
            cpus: s.cpus,
            timeout_seconds: s.timeout_seconds,
            pids_limit: s.pids_limit,
            tmpfs_bytes: s.tmpfs.size_bytes,
            output_limit_bytes: s.output_limit_bytes,
            fee_ratio: s.fee_ratio,
            tax_ratio: s.tax_ratio,
            min_window_days: s.min_window_days,
            strategy_sha256: strategies.iter().map(|st| crate::host::hex_sha256(st.source.as_bytes())).collect(),
        }
    }

    /// The file's text (plain numbers and strings cannot fail to serialise).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// What is wrong with the values, if anything.
    fn problem(&self) -> Option<&'static str> {
        let ratio = |x: f64| x.is_finite() && (0.0..1.0).contains(&x);
        if !ratio(self.fee_ratio) || !ratio(self.tax_ratio) {
            Some("fee_ratio and tax_ratio must be in [0, 1)")
        } else if !(self.cpus.is_finite() && self.cpus > 0.0) || self.memory_bytes == 0 {
            Some("cpus and memory_bytes must be positive")
        } else if self.output_limit_bytes == 0 || self.strategy_sha256.is_empty() {
            Some("output_limit_bytes must be positive and strategy_sha256 not empty")
        } else {
            None
        }
    }

    /// The settings to score with: the render's, defaults for the rest.
    pub fn settings(&self) -> Settings {
        let d = Settings::default();
        Settings {
            image: self.image.clone(),
            memory_bytes: self.memory_bytes,
            memory_swap_bytes: self.memory_swap_bytes,
            cpus: self.cpus,
            timeout_seconds: self.timeout_seconds,
            pids_limit: self.pids_limit,
            tmpfs: crate::config::Tmpfs { size_bytes: self.tmpfs_bytes, ..d.tmpfs.clone() },
            output_limit_bytes: self.output_limit_bytes,
            fee_ratio: self.fee_ratio,
            tax_ratio: self.tax_ratio,
            min_window_days: self.min_window_days,
            ..d
        }
    }
}

/// What `k8s score` was given.
pub struct Inputs<'a> {
    pub work: &'a Path,
    pub config_dir: &'a Path,
    pub data: &'a Path,
    /// The completion index of a batch; `None`: a single strategy.
    pub index: Option<usize>,
}

/// Read the ConfigMap and what the strategy container left, decide, score.
pub fn score(i: &Inputs) -> Result<RunResult, Error> {
    let rs = read_settings(i.config_dir)?;
    let s = rs.settings();
    let (filename, source) = read_strategy(i.config_dir, i.index, &rs)?;
    let data = run::inspect_data(i.data)?;
    let data_sha256 = crate::stage::content_sha256(&data.path)
        .map_err(|e| InputError::Data { path: data.path.clone(), message: format!("cannot read: {e}") })?;
    let observed = observe(i.work, &s);
    let mut verdict = run::decide(&observed, None);
    let scored = run::scoring::score(&mut verdict, &data.path, &s);
    let engine = crate::engine::Engine::new(PathBuf::from("kubernetes"));
    let req = request(&s, Path::new(&filename), &data.path, &engine);
    // Screened at render time (a strategy with findings is never rendered).
    let screening = ScreeningInfo { skipped: false, findings: Vec::new(), elapsed_ms: 0.0 };
    let facts = run::result::FrameFacts { data: &data, data_sha256, source: &source, screening };
    let mut r = run::result::from_frames(&req, &facts, observed, verdict);
    r.provenance.config_sha256 = rs.config_sha256.clone();
    r.provenance.seccomp_sha256 = rs.seccomp_sha256.clone();
    if rs.finsandbox != env!("CARGO_PKG_VERSION") {
        r.warnings.push(format!(
            "rendered by finsandbox {}, scored by {}: the scorer image should match the render",
            rs.finsandbox,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if let Some(sc) = scored {
        run::result::add_scores(&mut r, sc);
    }
    Ok(r)
}

fn request<'a>(
    s: &'a Settings,
    strategy: &'a Path,
    data: &'a Path,
    engine: &'a crate::engine::Engine,
) -> run::Request<'a> {
    // The render always turns the harness's runtime policy on, as `new` does.
    run::Request::new(strategy, data, s, engine, Arc::default())
}

fn config_error(path: &Path, message: impl Into<String>) -> Error {
    ConfigError::Parse { path: path.to_path_buf(), message: message.into() }.into()
}

fn read_config_text(path: &Path) -> Result<String, Error> {
    crate::fsread::read_to_string_bounded(path, super::limits::MAX_CONFIGMAP_BYTES as u64)
        .map_err(|e| config_error(path, e.to_string()))
}

/// `settings.json`, validated: missing or invalid is a config error (exit 2).
pub fn read_settings(dir: &Path) -> Result<ScoreSettings, Error> {
    let path = dir.join(SETTINGS_FILE);
    let text = read_config_text(&path)?;
    let rs: ScoreSettings = serde_json::from_str(&text).map_err(|e| config_error(&path, e.to_string()))?;
    match rs.problem() {
        Some(why) => Err(config_error(&path, why)),
        None => Ok(rs),
    }
}

/// The strategy line the launcher fed the harness, checked against the
/// sha256 the render recorded for that index: (file name, code).
fn read_strategy(dir: &Path, index: Option<usize>, rs: &ScoreSettings) -> Result<(String, String), Error> {
    #[derive(Deserialize)]
    struct Line {
        source: String,
        filename: String,
    }
    let name = index.map_or_else(|| "strategy.json".to_string(), |i| format!("strategy-{i}.json"));
    let path = dir.join(name);
    let line: Line = serde_json::from_str(&read_config_text(&path)?).map_err(|e| config_error(&path, e.to_string()))?;
    let want = rs.strategy_sha256.get(index.unwrap_or(0));
    let got = crate::host::hex_sha256(line.source.as_bytes());
    if want != Some(&got) {
        return Err(config_error(&path, format!("its sha256 {got} is not the one `{SETTINGS_FILE}` records")));
    }
    Ok((line.filename, line.source))
}

/// What the strategy container left, as a local run's observation: no
/// stderr (the container's log), no times, no monitor, no timeout claimed.
pub fn observe(work: &Path, s: &Settings) -> Observed {
    let limit = usize::try_from(s.output_limit_bytes).unwrap_or(usize::MAX);
    let mut decoder = Decoder::new(limit, MAX_POSITION_BYTES);
    if let Err(why) = feed_frames(&work.join("frames"), &mut decoder) {
        decoder.corrupt.get_or_insert(why);
    }
    decoder.finish();
    Observed {
        decoder,
        stderr: Tail::new(limit),
        cli_exit: exit_code(&work.join("exit-code")),
        timed_out: false,
        elapsed: Duration::ZERO,
        startup: None,
        monitor: crate::monitor::Report::default(),
    }
}

/// Feed the frames file to the decoder, refusing anything but a regular
/// file of at most [`MAX_FRAMES_BYTES`] (its size is checked before any
/// read, and the read stops there even if it grows). No file: nothing fed.
fn feed_frames(path: &Path, d: &mut Decoder) -> Result<(), String> {
    let file = match crate::fsread::open_regular(path) {
        Ok(f) => f,
        Err(crate::fsread::ReadError::Open { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(())
        }
        Err(e) => return Err(e.to_string()),
    };
    let too_large = || format!("the frames file is larger than the {MAX_FRAMES_BYTES}-byte limit");
    if file.metadata().map_err(|e| e.to_string())?.len() > MAX_FRAMES_BYTES {
        return Err(too_large());
    }
    let mut r = file.take(MAX_FRAMES_BYTES + 1);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n as u64;
                d.feed(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the frames file: {e}")),
        }
    }
    if total > MAX_FRAMES_BYTES {
        return Err(too_large());
    }
    Ok(())
}

/// The launcher's exit code: a decimal integer, else unknown.
fn exit_code(path: &Path) -> Option<i32> {
    let bytes = crate::fsread::read_bounded(path, MAX_EXIT_CODE_BYTES).ok()?;
    std::str::from_utf8(&bytes).ok()?.trim().parse().ok()
}

/// The result's gist as JSON of at most [`TERMINATION_LOG_BYTES`]: the
/// whole result when it fits, else the status, error and metrics, with the
/// message shortened (and the metrics dropped) until it does.
pub fn termination_message(r: &RunResult) -> String {
    let full = serde_json::to_string(r).unwrap_or_default();
    if full.len() <= TERMINATION_LOG_BYTES {
        return full;
    }
    let message: String = r.error.as_ref().map(|e| e.message.clone()).unwrap_or_default();
    for (keep, metrics) in [(1000, true), (1000, false), (200, false)] {
        let gist = serde_json::json!({
            "schema_version": r.schema_version,
            "run_id": r.run_id,
            "status": r.status,
            "success": r.success,
            "exit_code": r.exit_code,
            "error": r.error.as_ref().map(|e| serde_json::json!({
                "kind": e.kind,
                "message": message.chars().take(keep).collect::<String>(),
            })),
            "metrics": if metrics { serde_json::to_value(&r.metrics).unwrap_or(Value::Null) } else { Value::Null },
            "strategy_sha256": r.provenance.strategy_sha256,
            "truncated": true,
        });
        let text = gist.to_string();
        if text.len() <= TERMINATION_LOG_BYTES {
            return text;
        }
    }
    serde_json::json!({ "status": r.status, "truncated": true }).to_string()
}

/// Write the termination message where the kubelet reads it; a path that
/// does not exist or cannot be written is skipped (not in a Pod).
pub fn write_termination_log(path: &Path, r: &RunResult) {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path);
    if let Ok(mut f) = file {
        let _ = f.write_all(termination_message(r).as_bytes());
    }
}

#[cfg(test)]
#[path = "score_tests.rs"]
mod tests;
