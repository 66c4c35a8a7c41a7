//! The sandbox self-test: a canary strategy that tries each escape, run
//! through the normal `exec` path (screening skipped: the container and the
//! lockdown are what is under test). `finsandbox doctor` runs it once per
//! runtime; `exec --self-test` runs it before the real strategy and refuses to
//! go on if anything escaped.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use serde::Serialize;

use crate::config::Settings;
use crate::engine::Engine;
use crate::error::{EngineError, Error};
use crate::report::Status;

pub const CANARY: &str = include_str!("canary.py");

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub escaped: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SelfTest {
    pub runtime: String,
    pub healthy: bool,
    pub checks: Vec<Check>,
    /// Why the canary could not report at all (then `healthy` is false).
    pub error: Option<String>,
}

impl SelfTest {
    pub fn escaped(&self) -> Vec<&str> {
        self.checks.iter().filter(|c| c.escaped).map(|c| c.name.as_str()).collect()
    }
}

/// Run the canary with `settings` (its runtime included).
pub fn run(engine: &Engine, settings: &Settings, signal: Arc<AtomicUsize>) -> Result<SelfTest, Error> {
    let dir = tempfile::tempdir().map_err(|e| Error::Internal(format!("temporary directory: {e}")))?;
    let canary = dir.path().join("canary.py");
    std::fs::write(&canary, CANARY).map_err(|e| Error::Internal(format!("writing the canary: {e}")))?;
    let data = dir.path().join("canary.parquet");
    crate::data::write_minimal(&data).map_err(|e| Error::Internal(format!("writing canary data: {e}")))?;
    let mut s = settings.clone();
    s.sweep_on_start = false;
    s.cleanup_on_exit = true;
    s.timeout_seconds = s.timeout_seconds.min(120);
    let runtime = s.runtime.clone().unwrap_or_else(|| "default".into());
    let request = crate::run::Request {
        skip_screening: true,
        // The canary probes the layers below the runtime policy.
        runtime_policy: false,
        ..crate::run::Request::new(&canary, &data, &s, engine, signal)
    };
    let result = match crate::run::run(&request) {
        Ok(r) => r,
        Err(Error::Interrupted { name, code }) => return Err(Error::Interrupted { name, code }),
        Err(e) => return Ok(failed(runtime, format!("the canary could not run: {e}"))),
    };
    if result.status != Status::Ok {
        let why = result.error.map(|e| format!("{}: {}", e.kind, e.message)).unwrap_or_default();
        let tail = result.stderr.text.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
        return Ok(failed(runtime, format!("the canary ended with status {}: {why} {tail}", result.status.as_str())));
    }
    match parse(&result.stdout.text) {
        Some(checks) => {
            let healthy = !checks.iter().any(|c| c.escaped);
            Ok(SelfTest { runtime, healthy, checks, error: None })
        }
        None => Ok(failed(runtime, "the canary printed no report".into())),
    }
}

fn failed(runtime: String, error: String) -> SelfTest {
    SelfTest { runtime, healthy: false, checks: Vec::new(), error: Some(error) }
}

/// The canary's report: the last stdout line that is `{"checks": {...}}`.
pub fn parse(stdout: &str) -> Option<Vec<Check>> {
    let line = stdout.lines().rev().find(|l| l.starts_with("{\"checks\""))?;
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let obj = v.get("checks")?.as_object()?;
    let mut checks: Vec<Check> = obj
        .iter()
        .map(|(name, c)| Check {
            name: name.clone(),
            // Anything unreadable counts as an escape: fail closed.
            escaped: c.get("escaped").and_then(|e| e.as_bool()).unwrap_or(true),
            detail: c.get("detail").and_then(|d| d.as_str()).unwrap_or("").to_string(),
        })
        .collect();
    checks.sort_by(|a, b| a.name.cmp(&b.name));
    (!checks.is_empty()).then_some(checks)
}

/// The error `exec --self-test` stops with.
pub fn refusal(t: &SelfTest) -> EngineError {
    let what = match &t.error {
        Some(e) => e.clone(),
        None => format!("escapes succeeded: {}", t.escaped().join(", ")),
    };
    EngineError::Unhealthy { runtime: t.runtime.clone(), message: what }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_canary_report() {
        let out = "noise\n{\"checks\": {\"fork\": {\"escaped\": false, \"detail\": \"EPERM\"}, \"execve\": {\"escaped\": true, \"detail\": \"ran\"}}}\n";
        let c = parse(out).expect("report");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "execve");
        assert!(c[0].escaped);
    }

    #[test]
    fn unreadable_checks_count_as_escapes() {
        let c = parse("{\"checks\": {\"fork\": {\"detail\": \"?\"}}}").expect("report");
        assert!(c[0].escaped);
        assert!(parse("no report here").is_none());
        assert!(parse("{\"checks\": {}}").is_none());
    }
}
