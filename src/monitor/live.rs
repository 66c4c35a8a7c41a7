//! The live monitor of one container: a long-lived `docker stats` child
//! (one stream, not one blocking `--no-stream` call per sample), the policy,
//! and a cgroup poller for the exact memory peak and CPU time.
//!
//! It never outlives the run: [`Monitor::stop`] kills the `docker stats`
//! child (which unblocks the reader) and joins both threads, and `Drop` does
//! the same on any other path. It never blocks the run either: it only reads,
//! and on a violation it issues one `docker kill`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cgroup::CgroupFiles;
use super::policy::{KillPolicy, Violation};
use crate::config::MonitorSettings;
use crate::engine::{self, convert, parse_line, Engine, RawStats};

/// What the monitor saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub samples: u64,
    pub violations: Vec<Violation>,
    /// The monitor killed the container on a violation.
    #[serde(skip)]
    pub killed: bool,
    pub memory_peak_bytes: Option<u64>,
    pub memory_peak_source: Option<&'static str>,
    pub cpu_seconds: Option<f64>,
    pub pids_peak: Option<u64>,
    /// OOM kills the kernel counted in the container's cgroup (or logged
    /// for it: see [`super::kmsg`]).
    #[serde(skip)]
    pub oom_kills: u64,
}

#[derive(Default)]
struct Shared {
    report: Report,
    sampled_memory_peak: Option<u64>,
    stats: Option<Arc<duct::ReaderHandle>>,
}

pub struct Monitor {
    stop: Arc<AtomicBool>,
    shared: Arc<Mutex<Shared>>,
    threads: Vec<JoinHandle<()>>,
}

impl Monitor {
    /// `id`: the container's full id when the caller already knows it (one
    /// engine call fewer per run).
    pub fn start(
        engine: Engine,
        name: String,
        id: Option<String>,
        limits: MonitorSettings,
        cpus: f64,
        started: Instant,
    ) -> Monitor {
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let mut threads = Vec::new();
        if limits.enabled {
            let (e, n, st, sh) = (engine.clone(), name.clone(), Arc::clone(&stop), Arc::clone(&shared));
            threads.push(thread::spawn(move || stream(&e, &n, KillPolicy::new(limits, cpus), started, &st, &sh)));
        }
        let (st, sh) = (Arc::clone(&stop), Arc::clone(&shared));
        threads.push(thread::spawn(move || poll_cgroup(&engine, &name, id, &st, &sh)));
        Monitor { stop, shared, threads }
    }

    /// End monitoring and return what was seen.
    pub fn stop(mut self) -> Report {
        self.shutdown();
        let mut shared = lock(&self.shared);
        let sampled = shared.sampled_memory_peak;
        let r = &mut shared.report;
        if r.memory_peak_bytes.is_none() {
            r.memory_peak_bytes = sampled;
            r.memory_peak_source = sampled.map(|_| "stats_samples");
        }
        r.clone()
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = lock(&self.shared).stats.take() {
            let _ = h.kill();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock(m: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    // A panicked monitor thread must not take the run down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn stream(
    engine: &Engine,
    name: &str,
    mut policy: KillPolicy,
    started: Instant,
    stop: &AtomicBool,
    shared: &Mutex<Shared>,
) {
    while !stop.load(Ordering::SeqCst) {
        // The container may not exist yet when the run has just started:
        // `docker stats` then exits at once, and we try again.
        let reader = engine::stats_stream(engine, name);
        let Ok(reader) = reader else { return };
        let reader = Arc::new(reader);
        {
            let mut s = lock(shared);
            if stop.load(Ordering::SeqCst) {
                let _ = reader.kill();
                return;
            }
            s.stats = Some(Arc::clone(&reader));
        }
        let mut lines = BufReader::new(&*reader);
        let mut line = String::new();
        // The CLI redraws each sample more than once; count each record once.
        let mut previous: Option<RawStats> = None;
        loop {
            line.clear();
            match lines.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            for raw in parse_line(&line) {
                if previous.as_ref() == Some(&raw) {
                    continue;
                }
                let sample = convert(&raw);
                previous = Some(raw);
                let t = started.elapsed().as_secs_f64();
                let violations = policy.observe(&sample, t);
                let mut s = lock(shared);
                s.report.samples += 1;
                if let Some(p) = sample.pids {
                    s.report.pids_peak = Some(s.report.pids_peak.map_or(p, |q| q.max(p)));
                }
                if let Some(m) = sample.memory_bytes {
                    s.sampled_memory_peak = Some(s.sampled_memory_peak.map_or(m, |q| q.max(m)));
                }
                if s.report.killed {
                    continue;
                }
                // A warning is recorded once per rule; a kill ends the run.
                for v in violations.iter().filter(|v| v.action == "warn") {
                    if !s.report.violations.iter().any(|x| x.rule == v.rule) {
                        s.report.violations.push(v.clone());
                    }
                }
                let kills: Vec<Violation> = violations.into_iter().filter(|v| v.action == "kill").collect();
                if !kills.is_empty() {
                    s.report.violations.extend(kills);
                    s.report.killed = true;
                    drop(s);
                    let _ = engine::kill(engine, name);
                }
            }
        }
        lock(shared).stats = None;
        let _ = reader.kill();
        sleep_unless_stopped(stop, Duration::from_millis(100));
    }
}

/// Read the container's own cgroup counters every 100 ms: the memory peak
/// the kernel tracked (exact, unlike 1 s samples) and CPU time. The cgroup
/// vanishes when the container exits, so the last read is kept.
/// The id is asked of the engine at most until it answers; only the
/// cgroup lookup (the filesystem) is retried.
fn poll_cgroup(engine: &Engine, name: &str, mut id: Option<String>, stop: &AtomicBool, shared: &Mutex<Shared>) {
    let mut dirs: Option<CgroupFiles> = None;
    let mut tries = 0;
    while !stop.load(Ordering::SeqCst) {
        if dirs.is_none() && tries < 50 {
            tries += 1;
            if id.is_none() {
                id = engine::container_id(engine, name).ok();
            }
            dirs = id.as_deref().and_then(|i| CgroupFiles::find(Path::new("/sys/fs/cgroup"), i));
        }
        if let Some(d) = &dirs {
            let (peak, cpu) = d.read();
            let oom = d.oom_kills();
            let mut s = lock(shared);
            s.report.oom_kills = s.report.oom_kills.max(oom);
            if let Some((bytes, source)) = peak {
                let cur = s.report.memory_peak_bytes.unwrap_or(0);
                s.report.memory_peak_bytes = Some(cur.max(bytes));
                s.report.memory_peak_source = Some(source);
            }
            if cpu.is_some() {
                s.report.cpu_seconds = cpu;
            }
        }
        sleep_unless_stopped(stop, Duration::from_millis(100));
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) && Instant::now() < end {
        thread::sleep(Duration::from_millis(10));
    }
}
