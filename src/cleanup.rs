//! Reaping containers left behind by runs that died (SIGKILL, OOM of the CLI,
//! a reboot): `finsandbox cleanup`, and the cheap sweep at the start of
//! `exec`.
//!
//! Only containers carrying our `finsandbox.managed=true` label are ever
//! considered; nothing else is listed, let alone removed. Which of ours go is
//! decided by a pure function ([`judge`]) from the labels each run wrote:
//! - the owner process is gone: same boot id, and no process with that pid
//!   and that start time (pids are reused; start times are not);
//! - the host rebooted since it was created (another boot id);
//! - it outlived its own timeout plus a grace period;
//! - `--all`: every one of ours.

use std::time::Duration;

use serde::Serialize;

use crate::engine::{label, Engine};
use crate::error::EngineError;

/// Extra time past a container's own timeout before it counts as orphaned:
/// the CLI may still be inspecting and removing it.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(60);

/// A container of ours, as the engine lists it.
pub type Candidate = crate::engine::LabelledContainer;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reaped {
    pub name: String,
    pub id: String,
    pub state: String,
    /// Why it goes, or why it stays.
    pub reason: String,
    pub orphan: bool,
    pub removed: bool,
}

pub struct Options {
    pub all: bool,
    pub older_than: Option<Duration>,
    pub grace: Duration,
}

/// What the judge needs to know about this host.
pub struct Host<'a> {
    pub boot_id: &'a str,
    pub now: u64,
    /// Whether a process with this pid and start time runs on this host.
    pub alive: &'a dyn Fn(u32, Option<u64>) -> bool,
}

/// Decide one container's fate. `Some(reason)` means it is an orphan.
pub fn judge(c: &Candidate, host: &Host, opts: &Options) -> (bool, String) {
    let num = |k: &str| c.labels.get(k).and_then(|v| v.parse::<u64>().ok());
    let created = num(label::CREATED_AT);
    let age = created.map(|t| host.now.saturating_sub(t));
    if let (Some(min), Some(age)) = (opts.older_than, age) {
        if age < min.as_secs() {
            return (false, format!("younger than {}s", min.as_secs()));
        }
    }
    if opts.all {
        return (true, "--all".into());
    }
    if c.labels.get(label::KEEP).map(String::as_str) == Some("true") {
        return (false, "kept on request (--keep-container); `cleanup --all` removes it".into());
    }
    match c.labels.get(label::BOOT_ID) {
        Some(b) if b != host.boot_id => return (true, "created before the host last booted".into()),
        _ => {}
    }
    let pid = num(label::OWNER_PID).and_then(|p| u32::try_from(p).ok());
    let start = num(label::OWNER_START);
    match pid {
        Some(pid) if !(host.alive)(pid, start) => return (true, format!("its owner process {pid} is gone")),
        None => return (true, "it names no owner process".into()),
        _ => {}
    }
    if let (Some(timeout), Some(age)) = (num(label::TIMEOUT), age) {
        let limit = timeout + opts.grace.as_secs();
        if age > limit {
            return (
                true,
                format!("it is {age}s old, past its {timeout}s timeout and {}s grace", opts.grace.as_secs()),
            );
        }
    }
    (false, "its owner is still running".into())
}

/// List, judge, and (unless `dry_run`) remove. Removal failures are reported
/// in the verdicts (`removed: false`), not fatal: one stuck container must not
/// keep the others.
pub fn sweep(engine: &Engine, host: &Host, opts: &Options, dry_run: bool) -> Result<Vec<Reaped>, EngineError> {
    let mut verdicts = Vec::new();
    for c in crate::engine::list_labelled(engine, label::MANAGED)? {
        let (orphan, reason) = judge(&c, host, opts);
        let removed = orphan && !dry_run && crate::engine::remove(engine, &c.id).is_ok();
        if removed {
            // The dead run's staged data tables go with its container.
            crate::stage::remove_stage(c.labels.get(label::RUN_ID).map(String::as_str).unwrap_or(""));
        }
        verdicts.push(Reaped {
            name: c.name,
            id: c.id.chars().take(12).collect(),
            state: c.state,
            reason,
            orphan,
            removed,
        });
    }
    Ok(verdicts)
}

/// What an `exec` tells its user after the sweep at its start: how many
/// orphans went, and an alert past the configured threshold.
pub fn sweep_warnings(reaped: &[Reaped], alert_threshold: usize) -> Vec<String> {
    let orphans: Vec<&Reaped> = reaped.iter().filter(|x| x.orphan).collect();
    let mut w = Vec::new();
    if !orphans.is_empty() {
        let removed = orphans.iter().filter(|x| x.removed).count();
        w.push(format!("removed {removed} of {} orphaned container(s) left by earlier runs", orphans.len()));
    }
    if orphans.len() > alert_threshold {
        w.push(format!(
            "{} orphaned containers found (alert threshold {alert_threshold}): runs are dying without cleaning up",
            orphans.len()
        ));
    }
    w
}

/// `90s`, `30m`, `2h`, `1d`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a duration such as `30m`, `2h` or `1d`"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit in `{s}`: use s, m, h or d")),
    };
    Ok(Duration::from_secs(n * mult))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(pairs: &[(&str, &str)]) -> Candidate {
        let mut labels: std::collections::BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        labels.insert(label::MANAGED.into(), "true".into());
        Candidate { id: "abc".into(), name: "finsandbox-x".into(), state: "running".into(), labels }
    }

    fn ours(pid: &str, created: &str) -> Candidate {
        cand(&[
            (label::OWNER_PID, pid),
            (label::OWNER_START, "100"),
            (label::BOOT_ID, "boot"),
            (label::CREATED_AT, created),
            (label::TIMEOUT, "600"),
        ])
    }

    fn opts() -> Options {
        Options { all: false, older_than: None, grace: DEFAULT_GRACE }
    }

    fn judge_with(c: &Candidate, alive: bool, now: u64, o: &Options) -> (bool, String) {
        let f = move |_pid: u32, _start: Option<u64>| alive;
        judge(c, &Host { boot_id: "boot", now, alive: &f }, o)
    }

    #[test]
    fn owner_alive_within_timeout_stays() {
        assert!(!judge_with(&ours("42", "1000"), true, 1100, &opts()).0);
    }

    #[test]
    fn owner_gone_is_orphan() {
        let (orphan, why) = judge_with(&ours("42", "1000"), false, 1100, &opts());
        assert!(orphan);
        assert!(why.contains("42"), "{why}");
    }

    #[test]
    fn other_boot_is_orphan_even_if_a_pid_matches() {
        let mut c = ours("42", "1000");
        c.labels.insert(label::BOOT_ID.into(), "old-boot".into());
        assert!(judge_with(&c, true, 1100, &opts()).0);
    }

    #[test]
    fn past_timeout_plus_grace_is_orphan_even_with_owner_alive() {
        assert!(!judge_with(&ours("42", "1000"), true, 1000 + 600 + 60, &opts()).0);
        assert!(judge_with(&ours("42", "1000"), true, 1000 + 600 + 61, &opts()).0);
    }

    #[test]
    fn kept_containers_go_only_with_all() {
        let mut c = ours("42", "1000");
        c.labels.insert(label::KEEP.into(), "true".into());
        assert!(!judge_with(&c, false, 99_999, &opts()).0);
        assert!(judge_with(&c, false, 99_999, &Options { all: true, ..opts() }).0);
    }

    #[test]
    fn all_takes_everything_of_ours() {
        let o = Options { all: true, ..opts() };
        assert!(judge_with(&ours("42", "1000"), true, 1001, &o).0);
    }

    #[test]
    fn older_than_spares_young_containers_even_with_all() {
        let o = Options { all: true, older_than: Some(Duration::from_secs(3600)), grace: DEFAULT_GRACE };
        assert!(!judge_with(&ours("42", "1000"), false, 1100, &o).0);
        assert!(judge_with(&ours("42", "1000"), false, 1000 + 3600, &o).0);
    }

    #[test]
    fn containers_without_our_label_are_never_candidates() {
        let line = "1\t/theirs\trunning\t{\"app\":\"web\"}\n2\t/finsandbox-a\texited\t{\"finsandbox.managed\":\"true\"}\n3\tfake\texited\t{\"finsandbox.managed\":\"false\"}\n4\tnolabels\texited\tnull";
        let c = crate::engine::parse_labelled(line, label::MANAGED).expect("parses");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name, "finsandbox-a");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5w").is_err());
    }
}
