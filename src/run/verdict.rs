//! The verdict: a pure function of what was observed, so each rule is a
//! unit test. [`decide`] tries an ordered chain of small rules; the first
//! that recognises the run decides it. The order is the precedence: the
//! host's own observations (deadline, monitor, kernel, engine) come before
//! anything the sandbox said, and the sandbox's summary is believed last and
//! only as far as the position it points to decodes.

use super::Observed;
use crate::engine::ContainerState;
use crate::harness::{Summary, SummaryError, SummaryStatus};
use crate::position::{Position, PositionSummary};
use crate::report::Status;

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

impl Verdict {
    fn new(status: Status, error: Option<SummaryError>) -> Verdict {
        Verdict { status, error, position: None, decoded: None, summary: None }
    }

    fn with_summary(mut self, s: &Summary) -> Verdict {
        self.summary = Some(s.clone());
        self
    }
}

/// What the rules look at.
struct Facts<'a> {
    o: &'a Observed,
    state: Option<&'a ContainerState>,
    summary: Option<Result<Summary, String>>,
    /// The container's exit code, else the CLI's.
    exit: Option<i64>,
}

type Rule = fn(&Facts) -> Option<Verdict>;

/// In order of precedence.
const RULES: &[Rule] = &[
    timed_out,
    killed_by_the_monitor,
    killed_by_the_kernel,
    python_memory_error,
    engine_failed_to_start,
    corrupt_channel,
    unreadable_summary,
    no_summary,
    summary_says,
];

pub fn decide(o: &Observed, state: Option<&ContainerState>) -> Verdict {
    let facts = Facts {
        o,
        state,
        summary: o.decoder.summary.as_deref().map(Summary::parse),
        exit: state.map(|s| s.exit_code).or(o.cli_exit.map(i64::from)),
    };
    RULES.iter().find_map(|rule| rule(&facts)).unwrap_or_else(|| {
        Verdict::new(Status::InvalidOutput, err("InvalidOutput", "the run ended in a way no rule recognises"))
    })
}

fn err(kind: &str, message: impl Into<String>) -> Option<SummaryError> {
    Some(SummaryError { kind: kind.into(), message: message.into(), traceback: String::new() })
}

fn timed_out(f: &Facts) -> Option<Verdict> {
    f.o.timed_out
        .then(|| Verdict::new(Status::Timeout, err("Timeout", "the run exceeded its wall-clock limit and was killed")))
}

fn killed_by_the_monitor(f: &Facts) -> Option<Verdict> {
    if !f.o.monitor.killed {
        return None;
    }
    let what: Vec<String> =
        f.o.monitor
            .violations
            .iter()
            .map(|x| format!("{} {} over {} at {}s", x.rule, x.observed, x.threshold, x.at_s))
            .collect();
    Some(Verdict::new(Status::Killed, err("PolicyKill", format!("killed by the runtime monitor: {}", what.join("; ")))))
}

/// The kernel's OOM killer, and only the kernel's: the engine's OOMKilled
/// flag, the cgroup's own OOM-kill counter, or the kernel log's OOM-kill
/// record for this container's cgroup. A SIGKILL near the limit is
/// not enough (a strategy can fill its memory and kill itself to fake one).
fn killed_by_the_kernel(f: &Facts) -> Option<Verdict> {
    let oom = f.state.is_some_and(|s| s.oom_killed) || f.o.monitor.oom_kills > 0;
    oom.then(|| {
        Verdict::new(
            Status::MemoryLimit,
            err("MemoryLimit", "the container hit its memory limit and was killed by the kernel"),
        )
    })
}

fn python_memory_error(f: &Facts) -> Option<Verdict> {
    let Some(Ok(sum)) = &f.summary else { return None };
    let e = sum.error.as_ref().filter(|e| e.kind == "MemoryError")?;
    Some(Verdict::new(Status::MemoryLimit, Some(e.clone())).with_summary(sum))
}

/// 125: the engine could not create or start the container; 126/127: the
/// image's command could not run. Neither is the strategy's doing.
fn engine_failed_to_start(f: &Facts) -> Option<Verdict> {
    (f.summary.is_none() && matches!(f.o.cli_exit, Some(125..=127)))
        .then(|| Verdict::new(Status::EngineError, err("EngineError", first_lines(&f.o.stderr.text(), 5))))
}

fn corrupt_channel(f: &Facts) -> Option<Verdict> {
    let why = f.o.decoder.corrupt.as_ref()?;
    Some(Verdict::new(
        Status::InvalidOutput,
        err("InvalidOutput", format!("the output channel was tampered with or corrupted: {why}")),
    ))
}

fn unreadable_summary(f: &Facts) -> Option<Verdict> {
    let Some(Err(why)) = &f.summary else { return None };
    Some(Verdict::new(Status::InvalidOutput, err("InvalidOutput", why.clone())))
}

fn no_summary(f: &Facts) -> Option<Verdict> {
    if f.summary.is_some() {
        return None;
    }
    let code = f.exit.unwrap_or(-1);
    Some(if code == 0 {
        Verdict::new(Status::InvalidOutput, err("InvalidOutput", "the process exited without sending a result"))
    } else {
        let how = match signal_name(code) {
            Some(sig) => format!("was ended by {sig} (exit code {code}; not an OOM kill: the kernel counted none)"),
            None => format!("exited with code {code}"),
        };
        Verdict::new(
            Status::StrategyError,
            err("ProcessExit", format!("the strategy process {how} before sending a result")),
        )
    })
}

/// The sandbox's own account, believed only as far as the position decodes.
fn summary_says(f: &Facts) -> Option<Verdict> {
    let Some(Ok(sum)) = &f.summary else { return None };
    let v = match sum.status {
        SummaryStatus::StrategyError => Verdict::new(Status::StrategyError, sum.error.clone()),
        SummaryStatus::InvalidOutput => Verdict::new(Status::InvalidOutput, sum.error.clone()),
        SummaryStatus::HarnessError => {
            let mut e = sum.error.clone().unwrap_or_else(|| SummaryError {
                kind: "HarnessError".into(),
                message: "no details".into(),
                traceback: String::new(),
            });
            e.message = format!("the sandbox harness failed before the strategy ran: {}", e.message);
            Verdict::new(Status::EngineError, Some(e))
        }
        SummaryStatus::Ok => return Some(success(f, sum)),
    };
    Some(v.with_summary(sum))
}

fn success(f: &Facts, sum: &Summary) -> Verdict {
    if let Some(code) = f.exit.filter(|c| *c != 0) {
        return Verdict::new(
            Status::InvalidOutput,
            err("InvalidOutput", format!("a success summary but exit code {code}")),
        )
        .with_summary(sum);
    }
    let mut v = Verdict::new(Status::Ok, None).with_summary(sum);
    match f.o.decoder.position.clone().map(Position::decode) {
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
    v
}

/// Exit codes 129-159 are 128 + a signal number.
fn signal_name(code: i64) -> Option<&'static str> {
    Some(match code - 128 {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        31 => "SIGSYS",
        n if (1..=31).contains(&n) => "a signal",
        _ => return None,
    })
}

fn first_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).take(n).collect();
    if lines.is_empty() {
        "the engine failed to start the container (no message)".into()
    } else {
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{Decoder, Tail};
    use std::time::Duration;

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
            startup: None,
            monitor: crate::monitor::Report::default(),
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
            action: "kill",
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
    fn a_sigkill_at_the_memory_limit_without_an_oom_kill_is_not_memory_limit() {
        // A strategy that fills its memory and then kills itself fakes an OOM.
        let mut o = observed(b"", 137, false);
        o.monitor.memory_peak_bytes = Some(250 << 20);
        let v = decide(&o, Some(&state(137, false)));
        assert_eq!(v.status, Status::StrategyError);
        assert!(v.error.map(|e| e.message).unwrap_or_default().contains("SIGKILL"));
        o.monitor.oom_kills = 1;
        assert_eq!(decide(&o, Some(&state(137, false))).status, Status::MemoryLimit, "the kernel counted one");
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
}
