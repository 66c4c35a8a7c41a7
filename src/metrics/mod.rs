//! Prometheus metrics without a daemon. finsandbox is a CLI: there is no
//! long-lived process to scrape, so each run (and each `cleanup`) merges its
//! outcome into a small counter state kept beside the exported file and
//! rewrites `DIR/finsandbox.prom` for node_exporter's textfile collector.
//!
//! Why a state file: counters must accumulate across runs *and* across
//! processes (cron'd batches, parallel execs). The state
//! (`DIR/.finsandbox-metrics.json`) is read, merged and written back under an
//! exclusive `flock` on `DIR/.finsandbox-metrics.lock` (a file that is never
//! renamed, so every process locks the same inode); the `.prom` is rendered
//! from it, written to a temporary file in DIR and renamed over the old one,
//! so the collector never reads half a file.
//!
//! The pure part ([`State::record_run`], [`State::record_cleanup`],
//! [`render`]) is unit-tested; [`update`] is the only I/O. [`NAMES`] lists
//! every metric [`render`] can emit: the dashboard and rule tests compare
//! their queries against it.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::{RunResult, Status};

/// The exported file (node_exporter reads `*.prom`).
pub const PROM_FILE: &str = "finsandbox.prom";
/// The counters, merged by every process.
pub const STATE_FILE: &str = ".finsandbox-metrics.json";
/// Held (`flock`, exclusive) while the state is read, merged and written.
pub const LOCK_FILE: &str = ".finsandbox-metrics.lock";

/// Bumped when the state's meaning changes; an older or newer state is
/// set aside and counting restarts (Prometheus treats that as a counter reset).
const STATE_VERSION: u32 = 1;

/// Run duration buckets, seconds (default timeout 600 s).
const DURATION_BUCKETS: &[f64] = &[0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0];
/// Warm-up buckets, seconds (interpreter and imports: ~1-3 s).
const STARTUP_BUCKETS: &[f64] = &[0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0];
/// Peak memory buckets, bytes: 32 MiB to 8 GiB (default limit 2 GiB).
const MEMORY_BUCKETS: &[f64] = &[
    33554432.0,
    67108864.0,
    134217728.0,
    268435456.0,
    536870912.0,
    1073741824.0,
    2147483648.0,
    4294967296.0,
    8589934592.0,
];

/// Every metric name [`render`] emits (histograms by their base name; the
/// `_bucket`, `_sum` and `_count` series follow from it).
pub const NAMES: &[(&str, &str)] = &[
    ("finsandbox_runs_total", "counter"),
    ("finsandbox_screening_rejections_total", "counter"),
    ("finsandbox_monitor_violations_total", "counter"),
    ("finsandbox_orphans_reaped_total", "counter"),
    ("finsandbox_orphans", "gauge"),
    ("finsandbox_cleanup_last_timestamp_seconds", "gauge"),
    ("finsandbox_run_duration_seconds", "histogram"),
    ("finsandbox_run_startup_seconds", "histogram"),
    ("finsandbox_run_memory_peak_bytes", "histogram"),
    ("finsandbox_last_run_status", "gauge"),
    ("finsandbox_last_run_success", "gauge"),
    ("finsandbox_last_run_duration_seconds", "gauge"),
    ("finsandbox_last_run_timestamp_seconds", "gauge"),
];

/// Every series name a query may use: the names, plus each histogram's
/// `_bucket`, `_sum` and `_count`.
pub fn series_names() -> Vec<String> {
    let mut v = Vec::new();
    for (name, kind) in NAMES {
        v.push(name.to_string());
        if *kind == "histogram" {
            for s in ["_bucket", "_sum", "_count"] {
                v.push(format!("{name}{s}"));
            }
        }
    }
    v
}

/// Every status a run can end with, plus `error` (a run that stopped before
/// it had a result: bad data, engine unavailable, an unreadable strategy in
/// a batch). All are rendered, zero or not, so `rate()` sees each from the
/// first scrape.
fn statuses() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Status::ALL.into_iter().map(Status::as_str).collect();
    v.push(ERROR);
    v
}

/// The status of a run that ended without a result.
pub const ERROR: &str = "error";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The upper bounds the counts were taken with.
    pub bounds: Vec<f64>,
    /// Observations per bucket (not cumulative); one more than `bounds` (+Inf).
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], v: f64) {
        if !v.is_finite() || v < 0.0 {
            return;
        }
        // Other bounds (an older finsandbox wrote this state): start over.
        if self.bounds != bounds || self.counts.len() != bounds.len() + 1 {
            *self = Histogram { bounds: bounds.to_vec(), counts: vec![0; bounds.len() + 1], sum: 0.0, count: 0 };
        }
        let i = bounds.iter().position(|b| v <= *b).unwrap_or(bounds.len());
        self.counts[i] += 1;
        self.sum += v;
        self.count += 1;
    }
}

/// The last run, for the gauges.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    pub status: String,
    pub duration_seconds: f64,
    pub timestamp_seconds: u64,
}

/// The counters every process merges into.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub runs: BTreeMap<String, u64>,
    pub rejections: BTreeMap<String, u64>,
    /// rule → action → count.
    pub violations: BTreeMap<String, BTreeMap<String, u64>>,
    pub orphans_reaped: u64,
    /// Orphans the last `cleanup` found (null before any).
    pub orphans: Option<u64>,
    pub cleanup_timestamp_seconds: Option<u64>,
    pub duration: Histogram,
    pub startup: Histogram,
    pub memory: Histogram,
    pub last: Option<LastRun>,
}

/// What one run contributes: a result, or the status of a run that had none.
pub enum Outcome<'a> {
    Result(&'a RunResult),
    /// No result (an error before or around the run): counted as [`ERROR`].
    Error,
}

impl State {
    pub fn new() -> State {
        State { version: STATE_VERSION, ..State::default() }
    }

    /// Merge one run, finished at `now` (unix seconds).
    pub fn record_run(&mut self, outcome: &Outcome, now: u64) {
        let (status, duration) = match outcome {
            Outcome::Result(r) => (r.status.as_str(), r.execution_time_s),
            Outcome::Error => (ERROR, 0.0),
        };
        *self.runs.entry(status.to_string()).or_default() += 1;
        if let Outcome::Result(r) = outcome {
            if r.status == Status::Rejected {
                // Once per rule per rejected run: "how many strategies did FS001 stop".
                let mut rules: Vec<&str> = r.screening.findings.iter().map(|f| f.rule.id()).collect();
                rules.sort_unstable();
                rules.dedup();
                for rule in rules {
                    *self.rejections.entry(rule.to_string()).or_default() += 1;
                }
            }
            for v in &r.violations {
                *self.violations.entry(v.rule.to_string()).or_default().entry(v.action.to_string()).or_default() += 1;
            }
            // A run that never started a container has no duration worth a bucket.
            if r.container.is_some() {
                self.duration.observe(DURATION_BUCKETS, r.execution_time_s);
            }
            if let Some(s) = r.startup_s {
                self.startup.observe(STARTUP_BUCKETS, s);
            }
            if let Some(mb) = r.memory_peak_mb {
                self.memory.observe(MEMORY_BUCKETS, mb * 1048576.0);
            }
        }
        self.last = Some(LastRun { status: status.to_string(), duration_seconds: duration, timestamp_seconds: now });
    }

    /// Merge one `cleanup`: `found` orphans, `reaped` of them removed.
    pub fn record_cleanup(&mut self, found: u64, reaped: u64, now: u64) {
        self.orphans = Some(found);
        self.orphans_reaped += reaped;
        self.cleanup_timestamp_seconds = Some(now);
    }
}

/// A label value, escaped as the exposition format asks.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A sample value: Prometheus floats, integers without a fraction.
fn num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
}

fn histogram(out: &mut String, name: &str, help: &str, bounds: &[f64], h: &Histogram) {
    header(out, name, "histogram", help);
    let fresh;
    let h = if h.bounds == bounds && h.counts.len() == bounds.len() + 1 {
        h
    } else {
        fresh = Histogram { bounds: bounds.to_vec(), counts: vec![0; bounds.len() + 1], sum: 0.0, count: 0 };
        &fresh
    };
    let mut cumulative = 0;
    for (i, b) in bounds.iter().enumerate() {
        cumulative += h.counts[i];
        out.push_str(&format!("{name}_bucket{{le=\"{}\"}} {cumulative}\n", num(*b)));
    }
    out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {}\n", h.count));
    out.push_str(&format!("{name}_sum {}\n{name}_count {}\n", num(h.sum), h.count));
}

/// The state in the text exposition format (version 0.0.4), every metric
/// with HELP and TYPE, in [`NAMES`] order.
pub fn render(s: &State) -> String {
    let mut o = String::new();
    header(&mut o, "finsandbox_runs_total", "counter", "Runs finished, by status (error: no result).");
    for st in statuses() {
        o.push_str(&format!("finsandbox_runs_total{{status=\"{st}\"}} {}\n", s.runs.get(st).copied().unwrap_or(0)));
    }
    // Statuses a newer finsandbox wrote into the shared state.
    for (st, n) in s.runs.iter().filter(|(k, _)| !statuses().contains(&k.as_str())) {
        o.push_str(&format!("finsandbox_runs_total{{status=\"{}\"}} {n}\n", label(st)));
    }
    header(
        &mut o,
        "finsandbox_screening_rejections_total",
        "counter",
        "Strategies rejected by screening, by rule (a run counts once per rule it broke).",
    );
    // Only rules that fired: the rule list belongs to the screening module.
    let rules = &s.rejections;
    for (rule, n) in rules {
        o.push_str(&format!("finsandbox_screening_rejections_total{{rule=\"{}\"}} {n}\n", label(rule)));
    }
    header(
        &mut o,
        "finsandbox_monitor_violations_total",
        "counter",
        "Runtime monitor violations, by rule and action (kill or warn).",
    );
    for (rule, actions) in &s.violations {
        for (action, n) in actions {
            o.push_str(&format!(
                "finsandbox_monitor_violations_total{{rule=\"{}\",action=\"{}\"}} {n}\n",
                label(rule),
                label(action)
            ));
        }
    }
    header(&mut o, "finsandbox_orphans_reaped_total", "counter", "Orphaned containers removed by cleanup.");
    o.push_str(&format!("finsandbox_orphans_reaped_total {}\n", s.orphans_reaped));
    if let (Some(n), Some(t)) = (s.orphans, s.cleanup_timestamp_seconds) {
        header(&mut o, "finsandbox_orphans", "gauge", "Orphaned containers the last cleanup found.");
        o.push_str(&format!("finsandbox_orphans {n}\n"));
        header(
            &mut o,
            "finsandbox_cleanup_last_timestamp_seconds",
            "gauge",
            "When the last cleanup ran (unix seconds).",
        );
        o.push_str(&format!("finsandbox_cleanup_last_timestamp_seconds {t}\n"));
    }
    histogram(
        &mut o,
        "finsandbox_run_duration_seconds",
        "The strategy's wall time (execution_time_s) of runs that started a container.",
        DURATION_BUCKETS,
        &s.duration,
    );
    histogram(
        &mut o,
        "finsandbox_run_startup_seconds",
        "The trusted warm-up (startup_s): container start to the harness's READY.",
        STARTUP_BUCKETS,
        &s.startup,
    );
    histogram(
        &mut o,
        "finsandbox_run_memory_peak_bytes",
        "Peak memory of a run (memory_peak_mb), in bytes.",
        MEMORY_BUCKETS,
        &s.memory,
    );
    if let Some(l) = &s.last {
        header(&mut o, "finsandbox_last_run_status", "gauge", "1 for the status of the last run.");
        o.push_str(&format!("finsandbox_last_run_status{{status=\"{}\"}} 1\n", label(&l.status)));
        header(&mut o, "finsandbox_last_run_success", "gauge", "1 when the last run's status was ok, else 0.");
        o.push_str(&format!("finsandbox_last_run_success {}\n", u8::from(l.status == "ok")));
        header(&mut o, "finsandbox_last_run_duration_seconds", "gauge", "The last run's execution_time_s.");
        o.push_str(&format!("finsandbox_last_run_duration_seconds {}\n", num(l.duration_seconds)));
        header(&mut o, "finsandbox_last_run_timestamp_seconds", "gauge", "When the last run finished (unix seconds).");
        o.push_str(&format!("finsandbox_last_run_timestamp_seconds {}\n", l.timestamp_seconds));
    }
    o
}

/// Check, before any run, that DIR can take the metrics: a directory we can
/// lock in. A misspelt directory must fail the command up front, not after
/// an hour of batch.
pub fn check_dir(dir: &Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(format!("metrics directory `{}` is not a directory; create it first", dir.display()));
    }
    lock(dir).map(drop)
}

/// An exclusive lock on DIR's lock file, released when the file is dropped.
fn lock(dir: &Path) -> Result<std::fs::File, String> {
    let path = dir.join(LOCK_FILE);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o644)
        .open(&path)
        .map_err(|e| format!("cannot open `{}`: {e}", path.display()))?;
    // SAFETY: a valid open descriptor; flock has no memory effects.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(format!("cannot lock `{}`: {}", path.display(), std::io::Error::last_os_error()));
    }
    Ok(f)
}

/// Write `text` to `dir/name` atomically: a temporary file in DIR, then a rename.
fn replace(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let target = dir.join(name);
    let err = |e: std::io::Error| format!("cannot write `{}`: {e}", target.display());
    let mut tmp = tempfile::Builder::new().prefix(".finsandbox-").suffix(".tmp").tempfile_in(dir).map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    // node_exporter usually runs as another user: the file must be readable.
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(err)?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
}

/// Under the lock: read the state, apply `change`, write the state and the
/// `.prom`. Returns the rendered text. A state that does not parse (or has
/// another version) is set aside as `.finsandbox-metrics.json.bad` and
/// counting restarts, with the reason in the returned warning.
pub fn update(dir: &Path, change: impl FnOnce(&mut State)) -> Result<(String, Option<String>), String> {
    let _guard = lock(dir)?;
    let state_path = dir.join(STATE_FILE);
    let mut warning = None;
    let mut state = match std::fs::read(&state_path) {
        Ok(bytes) => match serde_json::from_slice::<State>(&bytes) {
            Ok(s) if s.version == STATE_VERSION => s,
            other => {
                let why = match other {
                    Ok(s) => format!("version {} (this finsandbox writes {STATE_VERSION})", s.version),
                    Err(e) => e.to_string(),
                };
                let aside = PathBuf::from(format!("{}.bad", state_path.display()));
                let _ = std::fs::rename(&state_path, &aside);
                warning = Some(format!(
                    "metrics state `{}` unusable ({why}); moved to `{}`, counters restart",
                    state_path.display(),
                    aside.display()
                ));
                State::new()
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::new(),
        Err(e) => return Err(format!("cannot read `{}`: {e}", state_path.display())),
    };
    change(&mut state);
    let json = serde_json::to_string(&state).map_err(|e| format!("metrics state: {e}"))?;
    let text = render(&state);
    // The state first: a crash between the two leaves the counts right and
    // the .prom one run behind, fixed by the next run.
    replace(dir, STATE_FILE, &json)?;
    replace(dir, PROM_FILE, &text)?;
    Ok((text, warning))
}

#[cfg(test)]
mod tests;
