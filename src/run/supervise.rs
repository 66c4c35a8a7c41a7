//! Watching one container from start to end: the engine's `docker run`
//! child, two pumps that drain its stdout (frames) and stderr into bounded
//! buffers, the runtime monitor, the wall-clock deadline, and the signal
//! flag. Whatever happens, the monitor and both pumps are stopped and joined
//! before this returns.

use std::ffi::OsString;
use std::io::Read;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use super::{Request, MAX_POSITION_BYTES};
use crate::engine;
use crate::error::{code, Error};
use crate::harness::{Decoder, Tail};

/// How often the wait loop looks at the signal flag and the deadline.
const TICK: Duration = Duration::from_millis(50);

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

pub fn supervise(req: &Request, args: &[OsString], input: Vec<u8>, name: &str) -> Result<Observed, Error> {
    let s = req.settings;
    let limit = usize::try_from(s.output_limit_bytes).unwrap_or(usize::MAX);
    let started = Instant::now();
    let mut child = engine::start(req.engine, args, input)?;
    let monitor =
        crate::monitor::Monitor::start(req.engine.clone(), name.to_string(), s.monitoring.clone(), s.cpus, started);
    let (out_r, err_r) = (child.stdout.take(), child.stderr.take());
    let out_thread = thread::spawn(move || {
        let mut d = Decoder::new(limit, MAX_POSITION_BYTES);
        if let Some(r) = out_r {
            pump(r, |chunk| d.feed(chunk));
        }
        d.finish();
        d
    });
    let err_thread = thread::spawn(move || {
        let mut t = Tail::new(limit);
        if let Some(r) = err_r {
            pump(r, |chunk| t.push(chunk));
        }
        t
    });

    let deadline = started + s.timeout();
    let mut timed_out = false;
    let mut interrupted = None;
    let status = loop {
        match child.wait_timeout(TICK) {
            Ok(Some(code)) => break code,
            Ok(None) => {}
            Err(e) => return Err(Error::Internal(format!("waiting for the engine CLI: {e}"))),
        }
        let sig = req.signal.load(Ordering::SeqCst);
        if sig != 0 && interrupted.is_none() {
            interrupted = Some(sig);
            child.stop(req.engine, name);
        }
        if !timed_out && interrupted.is_none() && Instant::now() >= deadline {
            timed_out = true;
            child.stop(req.engine, name);
        }
    };
    let elapsed = started.elapsed();
    let monitor = monitor.stop();
    let decoder = out_thread.join().map_err(|_| Error::Internal("stdout reader panicked".into()))?;
    let stderr = err_thread.join().map_err(|_| Error::Internal("stderr reader panicked".into()))?;
    if let Some(sig) = interrupted {
        // The container is killed; the caller's guard, still armed, removes
        // it as this error propagates.
        return Err(interrupted_by(sig));
    }
    Ok(Observed { decoder, stderr, cli_exit: status, timed_out, elapsed, monitor, memory_limit: s.memory_bytes })
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
