//! Watching one container from start to end, in two phases.
//!
//! 1. The trusted warm-up: the container starts (at `startup_cpus` when the
//!    engine can change a running container's quota), the harness gets its
//!    setup on stdin, imports, installs its lockdown and answers READY.
//! 2. The strategy: the host tightens the CPU quota to the run's limit and
//!    reads it back from the cgroup (or the engine) — if that fails the run
//!    does not happen — and only then sends the strategy. Its wall clock and
//!    the runtime monitor start here.
//!
//! Two pumps drain stdout (frames) and stderr into bounded buffers; a feeder
//! thread owns stdin. Whatever happens, the monitor, the pumps and the
//! feeder are stopped and joined before this returns.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{Request, MAX_POSITION_BYTES};
use crate::engine::{self, Engine, RunSpec};
use crate::error::{code, EngineError, Error};
use crate::harness::{Decoder, Parts, Tail};

/// How often the wait loop looks at the signal flag and the deadline.
const TICK: Duration = Duration::from_millis(50);

/// What watching the container produced.
pub struct Observed {
    pub decoder: Decoder,
    pub stderr: Tail,
    /// `docker run`'s own exit code (125-127: the engine failed, not the strategy).
    pub cli_exit: Option<i32>,
    pub timed_out: bool,
    /// The strategy's time: from the moment it was sent (the whole run when
    /// the harness never became ready).
    pub elapsed: Duration,
    /// The warm-up: container start to READY.
    pub startup: Option<Duration>,
    pub monitor: crate::monitor::Report,
}

/// The threads around the child: stdout frames (telling READY once),
/// stderr tail, and the stdin feeder.
struct Pumps {
    out: thread::JoinHandle<Decoder>,
    err: thread::JoinHandle<Tail>,
    feeder: thread::JoinHandle<()>,
    ready: mpsc::Receiver<()>,
    /// Dropping it without sending closes stdin without the strategy.
    go: Option<mpsc::Sender<()>>,
}

fn start_pumps(child: &mut engine::RunningContainer, parts: Parts, limit: usize) -> Pumps {
    let (ready_tx, ready) = mpsc::channel::<()>();
    let (out_r, err_r) = (child.stdout.take(), child.stderr.take());
    let out = thread::spawn(move || {
        let mut d = Decoder::new(limit, MAX_POSITION_BYTES);
        if let Some(r) = out_r {
            let mut told = false;
            pump(r, |chunk| {
                d.feed(chunk);
                if d.ready && !told {
                    told = true;
                    let _ = ready_tx.send(());
                }
            });
        }
        d.finish();
        d
    });
    let err = thread::spawn(move || {
        let mut t = Tail::new(limit);
        if let Some(r) = err_r {
            pump(r, |chunk| t.push(chunk));
        }
        t
    });
    // The feeder writes the setup at once and the strategy on `go`.
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let stdin = child.stdin.take();
    let feeder = thread::spawn(move || {
        let Some(mut w) = stdin else { return };
        if w.write_all(&parts.setup).and_then(|_| w.flush()).is_err() {
            return;
        }
        if go_rx.recv().is_ok() {
            let _ = w.write_all(&parts.strategy).and_then(|_| w.flush());
        }
    });
    Pumps { out, err, feeder, ready, go: Some(go_tx) }
}

/// How many strategies of a batch may run at once, handed out in input
/// order. A container that has finished its warm-up waits at READY until it
/// is the earliest waiting run and a slot is free; the batch gives the slot
/// back once that strategy's result is known.
pub struct Permits {
    state: Mutex<PermitState>,
}

struct PermitState {
    free: usize,
    /// Tickets (input positions) of the runs that have not started their
    /// strategy yet: a run may start while fewer runs before it wait than
    /// slots are free.
    waiting: std::collections::BTreeSet<usize>,
}

impl Permits {
    pub fn new(n: usize) -> Permits {
        Permits { state: Mutex::new(PermitState { free: n, waiting: Default::default() }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PermitState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A run with this ticket is on its way (its container starting).
    pub fn queue(&self, ticket: usize) {
        self.lock().waiting.insert(ticket);
    }

    /// The run no longer waits (it started, failed or was released).
    pub fn leave(&self, ticket: usize) {
        self.lock().waiting.remove(&ticket);
    }

    fn try_take(&self, ticket: usize) -> bool {
        let mut st = self.lock();
        // Earlier runs still waiting keep their claim on the free slots.
        let ahead = st.waiting.range(..ticket).count();
        let ok = st.free > ahead;
        if ok {
            st.free -= 1;
            st.waiting.remove(&ticket);
        }
        ok
    }

    pub fn give_back(&self) {
        self.lock().free += 1;
    }
}

/// Holds a warmed-up container at READY until it takes a [`Permits`] slot:
/// the strategy's clock, the CPU tightening and the monitor start only then.
/// When `halt` is set first, the container is released unused (stopped and
/// removed; the run returns an error the batch discards).
pub struct Gate {
    pub permits: Arc<Permits>,
    /// This run's place in the input order.
    pub ticket: usize,
    pub halt: Arc<AtomicBool>,
    /// Set once this run took a permit (the batch then gives it back).
    pub taken: Arc<AtomicBool>,
    /// The longest the container may be held (its backstop allows for it).
    pub hold: Duration,
}

impl Gate {
    /// `Some(true)`: go; `Some(false)`: released; `None`: keep waiting.
    fn poll(&self) -> Option<bool> {
        if self.halt.load(Ordering::SeqCst) {
            return Some(false);
        }
        if !self.permits.try_take(self.ticket) {
            return None;
        }
        // The batch sets `halt` before it gives a permit back: seen here
        // after taking one, the permit goes back and the run does not start.
        if self.halt.load(Ordering::SeqCst) {
            self.permits.give_back();
            return Some(false);
        }
        self.taken.store(true, Ordering::SeqCst);
        Some(true)
    }
}

/// What the wait loop saw.
#[derive(Default)]
struct Waited {
    status: Option<i32>,
    /// READY seen (the end of the warm-up).
    ready_seen: Option<Instant>,
    /// The strategy sent (its clock's start).
    ready_at: Option<Instant>,
    monitor: Option<crate::monitor::Monitor>,
    timed_out: bool,
    interrupted: Option<usize>,
    failure: Option<Error>,
    /// The container's full id, once the tightening asked the engine for it.
    container_id: Option<String>,
}

/// When `spec.startup_cpus` is set, the container was started above the
/// run's CPU limit and must be tightened before the strategy is sent.
/// `workdir`: the run's private directory, the engine CLI's working directory.
pub fn supervise(
    req: &Request,
    spec: &RunSpec,
    args: &[OsString],
    parts: Parts,
    gate: Option<Gate>,
    workdir: &Path,
) -> Result<Observed, Error> {
    let s = req.settings;
    let name = &spec.container_name();
    let boosted = spec.startup_cpus.is_some();
    let limit = usize::try_from(s.output_limit_bytes).unwrap_or(usize::MAX);
    // Positioned at the log's end before the container exists, so every
    // OOM kill of this container is after it.
    let mut kernel_log = crate::monitor::KernelLog::open();
    let started = Instant::now();
    let mut child = engine::start(req.engine, args, workdir)?;
    let mut pumps = start_pumps(&mut child, parts, limit);
    let w = wait(req, &child, &mut pumps, (name, spec.cidfile.as_deref()), boosted, started, gate);
    let end = Instant::now();
    drop(pumps.go.take());
    let mut monitor = w.monitor.map(|m| m.stop()).unwrap_or_default();
    if let Some(log) = kernel_log.as_mut() {
        // A container killed in its warm-up never had its id read: the
        // cidfile has it still, the engine is asked only if it does not.
        let known = w.container_id.clone().or_else(|| spec.cidfile.as_deref().and_then(engine::read_cidfile));
        monitor.oom_kills = monitor.oom_kills.max(kernel_oom_kills(log, req.engine, name, known.as_deref()));
    }
    if monitor.oom_kills > 0 && monitor.memory_peak_bytes.is_none_or(|p| p < s.memory_bytes) {
        // An OOM kill in the container's cgroup means its usage reached the
        // limit, whatever the last poll saw before the cgroup vanished.
        monitor.memory_peak_bytes = Some(s.memory_bytes);
        monitor.memory_peak_source = Some("oom_kill_at_limit");
    }
    let decoder = pumps.out.join().map_err(|_| Error::Internal("stdout reader panicked".into()))?;
    let stderr = pumps.err.join().map_err(|_| Error::Internal("stderr reader panicked".into()))?;
    let _ = pumps.feeder.join();
    if let Some(sig) = w.interrupted {
        // The container is killed; the caller's guard, still armed, removes
        // it as this error propagates.
        return Err(interrupted_by(sig));
    }
    if let Some(e) = w.failure {
        return Err(e);
    }
    Ok(Observed {
        decoder,
        stderr,
        cli_exit: w.status,
        timed_out: w.timed_out,
        elapsed: end - w.ready_at.unwrap_or(started),
        startup: w.ready_seen.map(|r| r - started),
        monitor,
    })
}

/// Wait for the child's end, watching for READY, the signal flag and the
/// deadline (the warm-up's, then the strategy's from the moment it is sent).
fn wait(
    req: &Request,
    child: &engine::RunningContainer,
    pumps: &mut Pumps,
    (name, cidfile): (&str, Option<&Path>),
    boosted: bool,
    started: Instant,
    mut gate: Option<Gate>,
) -> Waited {
    let s = req.settings;
    let mut w = Waited::default();
    let mut deadline = started + Duration::from_secs(engine::STARTUP_LIMIT_SECONDS);
    loop {
        match child.wait_timeout(TICK) {
            Ok(Some(code)) => {
                w.status = code;
                return w;
            }
            Ok(None) => {}
            Err(e) => {
                w.failure = Some(Error::Internal(format!("waiting for the engine CLI: {e}")));
                child.stop(req.engine, name);
                continue;
            }
        }
        if w.ready_seen.is_none() && w.failure.is_none() && pumps.ready.try_recv().is_ok() {
            let now = Instant::now();
            w.ready_seen = Some(now);
            if let Some(g) = &gate {
                // Held warm: no startup deadline now, only the hold's.
                deadline = now + g.hold;
            }
        }
        if w.ready_seen.is_some() && w.ready_at.is_none() && w.failure.is_none() {
            match gate.as_ref().map_or(Some(true), Gate::poll) {
                Some(true) => {
                    gate = None;
                    w.container_id = cidfile.and_then(engine::read_cidfile);
                    if let Err(e) = send_strategy(req, pumps, name, boosted, &mut w) {
                        // Fail closed: never a strategy above its CPU limit.
                        w.failure = Some(e);
                        drop(pumps.go.take());
                        child.stop(req.engine, name);
                        continue;
                    }
                    deadline = w.ready_at.unwrap_or_else(Instant::now) + s.timeout();
                }
                None => {}
                Some(false) => {
                    w.failure = Some(Error::Internal("the warm container was released unused".into()));
                    drop(pumps.go.take());
                    child.stop(req.engine, name);
                    continue;
                }
            }
        }
        let sig = req.signal.load(Ordering::SeqCst);
        if sig != 0 && w.interrupted.is_none() {
            w.interrupted = Some(sig);
            child.stop(req.engine, name);
        }
        if !w.timed_out && w.interrupted.is_none() && w.failure.is_none() && Instant::now() >= deadline {
            if w.ready_seen.is_some() && w.ready_at.is_none() {
                // Held past its hold: released unused, never run late.
                w.failure = Some(Error::Internal("the warm container was held past its allowance".into()));
                drop(pumps.go.take());
            } else {
                w.timed_out = true;
            }
            child.stop(req.engine, name);
        }
    }
}

/// READY seen and the gate open: tighten the CPU quota (when boosted),
/// start the strategy's clock and the monitor, send the strategy.
fn send_strategy(req: &Request, pumps: &mut Pumps, name: &str, boosted: bool, w: &mut Waited) -> Result<(), Error> {
    let s = req.settings;
    if boosted {
        w.container_id = tighten(req.engine, name, w.container_id.take(), s.cpus)?;
    }
    let now = Instant::now();
    w.ready_at = Some(now);
    let (engine, id) = (req.engine.clone(), w.container_id.clone());
    w.monitor = Some(crate::monitor::Monitor::start(engine, name.into(), id, s.monitoring.clone(), s.cpus, now));
    if let Some(g) = pumps.go.take() {
        let _ = g.send(());
    }
    Ok(())
}

/// OOM kills the kernel logged for this container (its id is asked of the
/// engine only when the log holds an OOM kill at all).
fn kernel_oom_kills(log: &mut crate::monitor::KernelLog, engine: &Engine, name: &str, known: Option<&str>) -> u64 {
    let cgroups = log.oom_kill_cgroups();
    if cgroups.is_empty() {
        return 0;
    }
    let id = match known {
        Some(id) => Some(id.to_string()),
        None => engine::container_id(engine, name).ok(),
    };
    id.map_or(0, |id| crate::monitor::kmsg::kills_of(&cgroups, &id))
}

/// Lower the running container's CPU quota to `cpus` and read it back:
/// from the container's cgroup when the engine is local, else from the
/// engine. Anything but the configured value is an error. `known`: the id
/// from the CLI's cidfile, else the engine is asked. Returns the id when
/// known (the monitor reuses it).
fn tighten(engine: &Engine, name: &str, known: Option<String>, cpus: f64) -> Result<Option<String>, EngineError> {
    let fail = |message: String| EngineError::CpuLimit { name: name.to_string(), cpus, message };
    engine::update_cpus(engine, name, cpus).map_err(|e| fail(e.to_string()))?;
    let id = known.or_else(|| engine::container_id(engine, name).ok());
    let from_cgroup = id
        .as_deref()
        .and_then(|id| crate::monitor::CgroupFiles::find(Path::new("/sys/fs/cgroup"), id))
        .and_then(|c| c.cpu_quota());
    let seen = match from_cgroup {
        Some(q) => q,
        None => engine::cpu_limit(engine, name)
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("the engine reports no CPU limit".into()))?,
    };
    if (seen - cpus).abs() > 0.005 {
        return Err(fail(format!("the quota reads back as {seen} CPUs")));
    }
    Ok(id)
}

/// The error for a run stopped by signal `sig`: exit 128 + N.
pub fn interrupted_by(sig: usize) -> Error {
    let (name, code) = if sig == signal_hook::consts::SIGTERM as usize {
        ("SIGTERM", code::SIGTERM)
    } else if sig == signal_hook::consts::SIGHUP as usize {
        ("SIGHUP", code::SIGHUP)
    } else {
        ("SIGINT", code::SIGINT)
    };
    Error::Interrupted { name, code }
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

#[cfg(test)]
mod tests {
    use super::Permits;

    #[test]
    fn permits_go_in_input_order_and_only_while_free() {
        let p = Permits::new(1);
        for t in [0, 1, 2] {
            p.queue(t);
        }
        assert!(!p.try_take(1), "1 waits behind 0");
        assert!(p.try_take(0));
        assert!(!p.try_take(1), "no slot free");
        p.give_back();
        assert!(!p.try_take(2), "2 waits behind 1");
        assert!(p.try_take(1));
    }

    #[test]
    fn a_run_that_leaves_the_queue_no_longer_blocks_the_next() {
        let p = Permits::new(1);
        p.queue(0);
        p.queue(1);
        assert!(!p.try_take(1));
        p.leave(0); // its warm-up failed
        assert!(p.try_take(1));
        assert!(!p.try_take(7), "no slot free");
        p.give_back();
        assert!(p.try_take(7), "an empty queue blocks nobody");
    }

    #[test]
    fn with_slots_for_everyone_ahead_a_later_run_need_not_wait() {
        let p = Permits::new(3);
        for t in 0..4 {
            p.queue(t);
        }
        assert!(p.try_take(2), "two wait before it, three slots free");
        assert!(!p.try_take(3), "0 and 1 still wait ahead of it for the two slots left");
        assert!(p.try_take(0));
        assert!(p.try_take(1));
    }
}
