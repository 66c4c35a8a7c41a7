//! The result of one run: its JSON schema, the human summary, and the exit
//! code each status maps to. This module renders outcomes; it never decides
//! them (that is [`crate::run`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::code;
use crate::harness::SummaryError;
use crate::position::PositionSummary;

pub use crate::printer::SCHEMA_VERSION;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    StrategyError,
    Rejected,
    Timeout,
    MemoryLimit,
    Killed,
    EngineError,
    InvalidOutput,
    /// The host could not score a valid position (its market data became
    /// unreadable after the run started).
    ScoringError,
}

impl Status {
    /// Every status, in the order of the exit-code table.
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::StrategyError,
        Status::Rejected,
        Status::Timeout,
        Status::MemoryLimit,
        Status::Killed,
        Status::EngineError,
        Status::InvalidOutput,
        Status::ScoringError,
    ];

    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => code::OK,
            Status::StrategyError => code::STRATEGY_ERROR,
            Status::Rejected => code::REJECTED,
            Status::Timeout => code::TIMEOUT,
            Status::MemoryLimit => code::MEMORY_LIMIT,
            Status::Killed => code::KILLED,
            Status::EngineError => code::ENGINE,
            Status::InvalidOutput => code::INVALID_OUTPUT,
            Status::ScoringError => code::SCORING_ERROR,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::StrategyError => "strategy_error",
            Status::Rejected => "rejected",
            Status::Timeout => "timeout",
            Status::MemoryLimit => "memory_limit",
            Status::Killed => "killed",
            Status::EngineError => "engine_error",
            Status::InvalidOutput => "invalid_output",
            Status::ScoringError => "scoring_error",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CapturedOutput {
    pub text: String,
    pub truncated: bool,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContainerInfo {
    pub name: String,
    pub image: String,
    pub image_id: Option<String>,
    pub runtime: String,
    pub engine: String,
    pub engine_version: String,
    pub removed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EffectiveLimits {
    pub memory_bytes: u64,
    pub memory_swap_bytes: u64,
    pub cpus: f64,
    pub timeout_seconds: u64,
    pub pids_limit: u32,
    pub network_mode: String,
    pub read_only: bool,
    pub tmpfs_bytes: u64,
    pub seccomp_profile: String,
    pub output_limit_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub schema_version: u32,
    pub run_id: String,
    pub status: Status,
    pub success: bool,
    /// The container's exit code; null when it never ran or was not inspected.
    pub exit_code: Option<i64>,
    /// The strategy's wall time, from the moment it was sent.
    pub execution_time_s: f64,
    /// The trusted warm-up: container start to the harness's READY (null
    /// when it never became ready, or no container ran).
    pub startup_s: Option<f64>,
    pub memory_peak_mb: Option<f64>,
    /// Where `memory_peak_mb` comes from: `cgroup_v1_max_usage`,
    /// `cgroup_v2_memory_peak`, `oom_kill_at_limit`, `stats_samples` or
    /// `harness_rusage`.
    pub memory_peak_source: Option<&'static str>,
    /// Null when no container ran.
    pub resources: Option<Resources>,
    /// Policy violations the runtime monitor killed the run for.
    pub violations: Vec<crate::monitor::Violation>,
    /// Computed on the host from the position and the data file; null unless `ok`.
    pub metrics: Option<crate::score::Metrics>,
    /// The backtest parameters the metrics were computed with.
    pub backtest: Option<BacktestParams>,
    pub stdout: CapturedOutput,
    pub stderr: CapturedOutput,
    pub error: Option<SummaryError>,
    pub position: Option<PositionSummary>,
    pub screening: ScreeningInfo,
    /// Whether the harness's runtime policy (the audit-hook layer) was on.
    pub runtime_policy: bool,
    /// Null when no container was started (a rejected strategy).
    pub container: Option<ContainerInfo>,
    pub limits: EffectiveLimits,
    pub insecure: bool,
    pub insecure_reasons: Vec<String>,
    pub versions: BTreeMap<String, String>,
    pub strategy: StrategyInfo,
    /// What exactly produced this result: equal provenance, equal metrics.
    pub provenance: Provenance,
    /// The host's own warnings.
    pub warnings: Vec<String>,
    /// Warnings the sandbox reported about itself (the harness, the finlab
    /// layer). They come from a process the strategy controls: shown, never
    /// believed, and kept apart from the host's.
    pub sandbox_warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BacktestParams {
    /// `W`, `M`, `W-WED`, `Q-JAN`, `dates(N)`, or null (daily).
    pub resample: Option<String>,
    pub stop_loss: Option<f64>,
    pub take_profit: Option<f64>,
    pub position_limit: f64,
    pub fee_ratio: f64,
    pub tax_ratio: f64,
    pub trade_at_price: &'static str,
}

impl From<&crate::score::Params> for BacktestParams {
    fn from(p: &crate::score::Params) -> Self {
        BacktestParams {
            resample: p.resample_label(),
            stop_loss: p.stop_loss,
            take_profit: p.take_profit,
            position_limit: p.position_limit,
            fee_ratio: p.fee_ratio,
            tax_ratio: p.tax_ratio,
            trade_at_price: if p.trade_at_open { "open" } else { "close" },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    /// CPU time from the container's cgroup (null when not readable).
    pub cpu_seconds: Option<f64>,
    /// Highest process+thread count in a `docker stats` sample.
    pub pids_peak: Option<u64>,
    /// `docker stats` samples taken.
    pub samples: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScreeningInfo {
    /// `--skip-screening` was given: the container alone had to hold.
    pub skipped: bool,
    pub findings: Vec<crate::screen::Finding>,
    pub elapsed_ms: f64,
}

/// Hashes and versions of everything a result depends on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Provenance {
    pub strategy_sha256: String,
    /// The data file, or each table of a data directory, name and content.
    pub data_sha256: Option<String>,
    /// The profile text the run used; null when unconfined.
    pub seccomp_sha256: Option<String>,
    /// The effective settings (every layer combined).
    pub config_sha256: String,
    /// This build's screening rules (a hash of their source).
    pub screening_rules: String,
    pub image_id: Option<String>,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub runtime: Option<String>,
    pub finsandbox: String,
    pub commit: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyInfo {
    pub path: String,
    pub sha256: String,
    pub data: String,
    pub data_rows: Option<i64>,
    pub data_fields: Vec<String>,
}

impl crate::printer::Render for RunResult {
    fn render_text(&self, color: bool) -> String {
        human(self, color)
    }
}

impl crate::printer::CommandOutput for RunResult {
    fn exit_code(&self) -> i32 {
        self.status.exit_code()
    }
}

/// The human summary. Everything that originates in the sandbox (its
/// output, exception text, warnings, findings quoting its source) goes
/// through [`crate::printer::terminal_safe`]: a strategy must not be able to
/// repaint the metrics line with escape sequences.
fn human(r: &RunResult, color: bool) -> String {
    use crate::printer::terminal_safe as safe;
    let paint = |code: &str, s: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
    let status = match r.status {
        Status::Ok => paint("32", "ok"),
        _ => paint("31", r.status.as_str()),
    };
    let mut s = String::new();
    s.push_str(&format!("finsandbox run {}: {status}\n", r.run_id));
    s.push_str(&format!("  strategy   {}\n", safe(&r.strategy.path)));
    s.push_str(&format!("  time       {:.2}s", r.execution_time_s));
    if let Some(m) = r.memory_peak_mb {
        s.push_str(&format!(", peak memory {m:.0} MB"));
    }
    s.push('\n');
    if let Some(p) = &r.position {
        s.push_str(&format!(
            "  position   {} dates x {} symbols ({}), {} .. {}\n",
            p.rows,
            p.columns,
            match p.dtype {
                crate::position::Dtype::Bool => "bool",
                crate::position::Dtype::Float => "weights",
            },
            p.start.as_deref().unwrap_or("-"),
            p.end.as_deref().unwrap_or("-"),
        ));
        s.push_str(&format!("  sha256     {}\n", p.sha256));
    }
    for f in &r.screening.findings {
        s.push_str(&format!("  {}   line {}:{}: {}\n", f.rule.id(), f.line, f.column, safe(&f.message)));
        if !f.text.is_empty() {
            s.push_str(&format!("    | {}\n", safe(&f.text)));
        }
    }
    if r.screening.skipped {
        s.push_str("  screening  skipped (--skip-screening)\n");
    }
    if !r.runtime_policy {
        s.push_str("  runtime    policy off (--no-runtime-policy)\n");
    }
    if let Some(m) = &r.metrics {
        s.push_str(&metrics_line(m));
    }
    if let Some(e) = &r.error {
        s.push_str(&format!("  error      {}: {}\n", safe(&e.kind), safe(&e.message)));
        if !e.traceback.trim().is_empty() {
            for line in e.traceback.trim_end().lines() {
                s.push_str(&format!("    {}\n", safe(line)));
            }
        }
    }
    if r.insecure {
        s.push_str(&format!("  {}   {}\n", paint("33", "INSECURE"), r.insecure_reasons.join("; ")));
    }
    for w in &r.warnings {
        s.push_str(&format!("  warning    {}\n", safe(w)));
    }
    for w in &r.sandbox_warnings {
        s.push_str(&format!("  sandbox    {} (reported from inside the sandbox)\n", safe(w)));
    }
    s.push_str(&tail("stdout", &r.stdout));
    s.push_str(&tail("stderr", &r.stderr));
    s
}

fn metrics_line(m: &crate::score::Metrics) -> String {
    let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{:.2}%", x * 100.0));
    let num = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.2}"));
    format!(
        "  metrics    total {}, annual {}, sharpe {}, max drawdown {}, {} trades ({} .. {}, computed on the host)\n",
        pct(m.total_return),
        pct(m.annual_return),
        num(m.sharpe_ratio),
        pct(m.max_drawdown),
        m.trades,
        m.start,
        m.end
    )
}

/// The last ten lines of a captured stream, terminal-safe.
fn tail(name: &str, o: &CapturedOutput) -> String {
    use crate::printer::terminal_safe as safe;
    if o.text.trim().is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = o.text.trim_end().lines().collect();
    let shown = &lines[lines.len().saturating_sub(10)..];
    let mut t = format!(
        "  {name} (last {} of {} lines{}):\n",
        shown.len(),
        lines.len(),
        if o.truncated { ", truncated" } else { "" }
    );
    for l in shown {
        t.push_str(&format!("    | {}\n", safe(l)));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_status_once() {
        // Exhaustive on purpose: a new status fails to compile here until
        // `Status::ALL` (which the metrics render from) lists it.
        fn position(s: Status) -> usize {
            match s {
                Status::Ok => 0,
                Status::StrategyError => 1,
                Status::Rejected => 2,
                Status::Timeout => 3,
                Status::MemoryLimit => 4,
                Status::Killed => 5,
                Status::EngineError => 6,
                Status::InvalidOutput => 7,
                Status::ScoringError => 8,
            }
        }
        for (i, s) in Status::ALL.into_iter().enumerate() {
            assert_eq!(position(s), i, "{s:?}");
        }
    }

    #[test]
    fn exit_codes_are_distinct_per_status() {
        let all = Status::ALL;
        let mut codes: Vec<i32> = all.iter().map(|s| s.exit_code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(Status::Ok.exit_code(), 0);
    }

    #[test]
    fn status_serialises_as_its_documented_name() {
        for s in [Status::Ok, Status::StrategyError, Status::MemoryLimit, Status::InvalidOutput, Status::ScoringError] {
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::Value::String(s.as_str().into())));
        }
    }
}
