//! The one builder of a [`RunResult`]: [`base`] fills the fields every
//! result has; a rejected strategy and a run that happened each add only
//! what differs.

use std::collections::BTreeMap;

use super::scoring::Scored;
use super::{Observed, Preflight, Request, Verdict};
use crate::config::Settings;
use crate::engine::{ContainerState, RunSpec};
use crate::harness::{self, SummaryError};
use crate::host::hex_sha256;
use crate::report::{
    CapturedOutput, ContainerInfo, EffectiveLimits, Provenance, Resources, RunResult, ScreeningInfo, Status,
    StrategyInfo, SCHEMA_VERSION,
};

/// The screening rules' own source: a change to any rule changes this hash.
const SCREENING_SOURCE: [&str; 2] = [include_str!("../screen/rules.rs"), include_str!("../screen/scan.rs")];

/// What every result records of its inputs, before anything ran.
pub fn base_provenance(s: &Settings, source: &str, data_sha256: Option<String>) -> Provenance {
    Provenance {
        strategy_sha256: hex_sha256(source.as_bytes()),
        data_sha256,
        seccomp_sha256: s.seccomp_json.as_ref().map(|j| hex_sha256(j.as_bytes())),
        config_sha256: config_sha256(s),
        screening_rules: format!(
            "{}+{}",
            env!("CARGO_PKG_VERSION"),
            &hex_sha256(SCREENING_SOURCE.concat().as_bytes())[..16]
        ),
        image_id: None,
        engine: None,
        engine_version: None,
        runtime: None,
        finsandbox: env!("CARGO_PKG_VERSION").to_string(),
        commit: env!("FINSANDBOX_COMMIT").to_string(),
    }
}

/// The effective settings, hashed in a canonical rendering.
pub fn config_sha256(s: &Settings) -> String {
    hex_sha256(format!("{s:?}").as_bytes())
}

/// The facts of a run that happened.
pub(super) struct Facts<'a> {
    pub spec: &'a RunSpec,
    pub pre: &'a Preflight,
    pub data: &'a crate::data::DataInfo,
    pub removed: bool,
    pub source: &'a str,
    pub screening: ScreeningInfo,
    pub data_sha256: String,
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn limits(s: &Settings) -> EffectiveLimits {
    EffectiveLimits {
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

fn empty_output() -> CapturedOutput {
    CapturedOutput { text: String::new(), truncated: false, bytes: 0 }
}

/// What every result holds, whether or not a container ran.
fn base(req: &Request, run_id: String, status: Status, source: &str, screening: ScreeningInfo) -> RunResult {
    let s = req.settings;
    RunResult {
        provenance: base_provenance(s, source, None),
        schema_version: SCHEMA_VERSION,
        run_id,
        status,
        success: status == Status::Ok,
        exit_code: None,
        execution_time_s: 0.0,
        startup_s: None,
        memory_peak_mb: None,
        memory_peak_source: None,
        resources: None,
        violations: Vec::new(),
        metrics: None,
        backtest: None,
        stdout: empty_output(),
        stderr: empty_output(),
        error: None,
        position: None,
        screening,
        runtime_policy: req.runtime_policy,
        container: None,
        limits: limits(s),
        insecure: !s.insecure_reasons.is_empty(),
        insecure_reasons: s.insecure_reasons.clone(),
        versions: BTreeMap::from([
            ("finsandbox".to_string(), env!("CARGO_PKG_VERSION").to_string()),
            ("harness_protocol".to_string(), harness::PROTOCOL_STR.to_string()),
        ]),
        strategy: StrategyInfo {
            path: req.strategy.display().to_string(),
            sha256: hex_sha256(source.as_bytes()),
            data: req.data.display().to_string(),
            data_rows: None,
            data_fields: Vec::new(),
        },
        warnings: Vec::new(),
        sandbox_warnings: Vec::new(),
    }
}

/// The result for a strategy the screening refused: no container started.
pub fn rejected(req: &Request, source: &str, screening: ScreeningInfo) -> RunResult {
    let n = screening.findings.len();
    let message = match screening.findings.first() {
        Some(first) => format!(
            "screening found {n} problem(s); first: {} at line {}: {}",
            first.rule.id(),
            first.line,
            first.message
        ),
        None => "screening found a problem".to_string(),
    };
    let mut r = base(req, crate::host::new_run_id(), Status::Rejected, source, screening);
    r.error = Some(SummaryError { kind: "Rejected".into(), message, traceback: String::new() });
    r
}

pub(super) fn assemble(req: &Request, f: &Facts, o: Observed, state: Option<ContainerState>, v: Verdict) -> RunResult {
    let s = req.settings;
    let mut r = base(req, f.spec.run_id.clone(), v.status, f.source, f.screening.clone());
    r.versions.extend(f.pre.image.labels.iter().filter_map(|(k, val)| {
        k.strip_prefix(crate::image::LABEL_VERSION_PREFIX).map(|n| (n.to_string(), val.clone()))
    }));
    r.warnings = warnings(s, f, &o);
    observed_fields(&mut r, &o, state.as_ref(), v);
    r.container = Some(ContainerInfo {
        name: f.spec.container_name(),
        image: s.image.clone(),
        image_id: Some(f.pre.image.id.clone()),
        runtime: s.runtime.clone().unwrap_or_else(|| "default".into()),
        engine: req.engine.name(),
        engine_version: f.pre.engine.server_version.clone(),
        removed: f.removed,
    });
    r.provenance.image_id = Some(f.pre.image.id.clone());
    r.provenance.engine = Some(req.engine.name());
    r.provenance.engine_version = Some(f.pre.engine.server_version.clone());
    r.provenance.runtime = Some(s.runtime.clone().unwrap_or_else(|| "default".into()));
    data_fields(&mut r, f.data, &f.data_sha256);
    r
}

/// The facts of a run scored from frames another container left (`k8s
/// score`): no local container, engine or image to record.
pub struct FrameFacts<'a> {
    pub data: &'a crate::data::DataInfo,
    pub data_sha256: String,
    /// The code that ran (what `strategy_sha256` hashes).
    pub source: &'a str,
    pub screening: ScreeningInfo,
}

/// The result of a run observed only through its frames and exit code.
pub fn from_frames(req: &Request, f: &FrameFacts, o: Observed, v: Verdict) -> RunResult {
    let mut r = base(req, crate::host::new_run_id(), v.status, f.source, f.screening.clone());
    r.warnings = output_warnings(req.settings, &o);
    observed_fields(&mut r, &o, None, v);
    data_fields(&mut r, f.data, &f.data_sha256);
    r
}

/// What the run itself showed: exit, times, memory, output, verdict.
fn observed_fields(r: &mut RunResult, o: &Observed, state: Option<&ContainerState>, v: Verdict) {
    if let Some(sum) = &v.summary {
        r.sandbox_warnings = sum.warnings.clone();
        r.sandbox_warnings.extend(
            sum.runtime_policy_refusals
                .iter()
                .take(50)
                .map(|x| format!("runtime policy {} refused: {}", x.rule, x.what)),
        );
    }
    // The kernel's own peak when the cgroup was readable, else the highest
    // `docker stats` sample, else what the harness measured of itself.
    let (peak, source) = match (o.monitor.memory_peak_bytes, o.monitor.memory_peak_source) {
        (Some(b), Some(src)) => (Some(b as f64 / 1048576.0), Some(src)),
        _ => match v.summary.as_ref().and_then(|s| s.max_rss_kb) {
            Some(kb) => (Some(kb as f64 / 1024.0), Some("harness_rusage")),
            None => (None, None),
        },
    };
    r.exit_code = state.map(|st| st.exit_code).or(o.cli_exit.map(i64::from));
    r.execution_time_s = round3(o.elapsed.as_secs_f64());
    r.startup_s = o.startup.map(|d| round3(d.as_secs_f64()));
    r.memory_peak_mb = peak.map(|m| (m * 10.0).round() / 10.0);
    r.memory_peak_source = source;
    r.resources = Some(Resources {
        cpu_seconds: o.monitor.cpu_seconds.map(round3),
        pids_peak: o.monitor.pids_peak,
        samples: o.monitor.samples,
    });
    r.violations = o.monitor.violations.clone();
    r.stdout = CapturedOutput {
        text: o.decoder.stdout.text(),
        truncated: o.decoder.stdout.truncated(),
        bytes: o.decoder.stdout.total(),
    };
    r.stderr = CapturedOutput { text: o.stderr.text(), truncated: o.stderr.truncated(), bytes: o.stderr.total() };
    r.error = v.error;
    r.position = v.position;
}

/// The market data the run saw and the host scored with.
fn data_fields(r: &mut RunResult, data: &crate::data::DataInfo, data_sha256: &str) {
    r.provenance.data_sha256 = Some(data_sha256.to_string());
    r.strategy.data = data.path.display().to_string();
    r.strategy.data_rows = Some(data.rows);
    r.strategy.data_fields = data.fields.clone();
}

/// The host's: the sweep's, truncation and a kept container.
fn warnings(s: &Settings, f: &Facts, o: &Observed) -> Vec<String> {
    let mut w = f.pre.swept.clone();
    w.extend(output_warnings(s, o));
    if !f.removed {
        w.push(format!(
            "container `{}` was kept (cleanup_on_exit: false); remove it with `docker rm`",
            f.spec.container_name()
        ));
    }
    w
}

/// Truncated output and the monitor's warn-only rules.
fn output_warnings(s: &Settings, o: &Observed) -> Vec<String> {
    let mut w = Vec::new();
    for (name, truncated, total) in [
        ("stdout", o.decoder.stdout.truncated(), o.decoder.stdout.total()),
        ("stderr", o.stderr.truncated(), o.stderr.total()),
    ] {
        if truncated {
            w.push(format!("{name} was {total} bytes; only the last {} were kept", s.output_limit_bytes));
        }
    }
    for v in o.monitor.violations.iter().filter(|v| v.action == "warn") {
        w.push(format!(
            "the monitor's `{}` rule fired at {}s ({} over {}): recorded, not killed (`monitoring.cpu_action: kill` stops such runs)",
            v.rule, v.at_s, v.observed, v.threshold
        ));
    }
    w
}

/// Metrics, the parameters they used, and scoring's warnings.
pub fn add_scores(r: &mut RunResult, sc: Scored) {
    r.warnings.extend(sc.warnings);
    r.metrics = Some(sc.metrics);
    r.backtest = Some(sc.params);
}
