//! The live monitor of one container: a long-lived `docker stats` child
//! (one stream, not one blocking `--no-stream` call per sample), the policy,
//! and a cgroup poller for the exact memory peak and CPU time.
//!
//! It never outlives the run: [`Monitor::stop`] kills the `docker stats`
//! child (which unblocks the reader) and joins both threads, and `Drop` does
//! the same on any other path. It never blocks the run either: it only reads,
//! and on a violation it issues one `docker kill`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::policy::{Limits, Policy, Violation};
use super::stats::{convert, parse_line};
use crate::engine::Engine;

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
    /// OOM kills the kernel counted in the container's cgroup.
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
    pub fn start(engine: Engine, name: String, limits: Limits, cpus: f64, started: Instant) -> Monitor {
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let mut threads = Vec::new();
        if limits.enabled {
            let (e, n, st, sh) = (engine.clone(), name.clone(), Arc::clone(&stop), Arc::clone(&shared));
            threads.push(thread::spawn(move || stream(&e, &n, Policy::new(limits, cpus), started, &st, &sh)));
        }
        let (st, sh) = (Arc::clone(&stop), Arc::clone(&shared));
        threads.push(thread::spawn(move || poll_cgroup(&engine, &name, &st, &sh)));
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
    mut policy: Policy,
    started: Instant,
    stop: &AtomicBool,
    shared: &Mutex<Shared>,
) {
    while !stop.load(Ordering::SeqCst) {
        // The container may not exist yet when the run has just started:
        // `docker stats` then exits at once, and we try again.
        let reader = duct::cmd(&engine.program, ["stats", "--format", super::stats::FORMAT, name])
            .stdin_null()
            .stderr_null()
            .unchecked()
            .reader();
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
        let mut previous: Option<super::stats::RawStats> = None;
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
                if !violations.is_empty() && !s.report.killed {
                    s.report.violations.extend(violations);
                    s.report.killed = true;
                    drop(s);
                    let _ = crate::engine::kill(engine, name);
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
fn poll_cgroup(engine: &Engine, name: &str, stop: &AtomicBool, shared: &Mutex<Shared>) {
    let mut dirs: Option<CgroupFiles> = None;
    let mut tries = 0;
    while !stop.load(Ordering::SeqCst) {
        if dirs.is_none() && tries < 50 {
            tries += 1;
            if let Ok(out) = engine.run(["container", "inspect", "--format", "{{.Id}}", name], Duration::from_secs(2)) {
                dirs = CgroupFiles::find(Path::new("/sys/fs/cgroup"), out.stdout.trim());
            }
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

/// The counter files of one container's cgroup, v1 or v2, cgroupfs or
/// systemd driver. Absent (a remote engine, another layout): `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupFiles {
    memory_peak: PathBuf,
    cpu: PathBuf,
    /// v1 `memory.oom_control` or v2 `memory.events`: both have `oom_kill N`.
    oom: PathBuf,
    v2: bool,
}

impl CgroupFiles {
    pub fn find(root: &Path, id: &str) -> Option<CgroupFiles> {
        if id.len() < 12 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v1_mem = [
            root.join("memory/docker").join(id),
            root.join(format!("memory/system.slice/docker-{id}.scope")),
            root.join(format!("memory/libpod_parent/libpod-{id}")),
            root.join(format!("memory/machine.slice/libpod-{id}.scope")),
        ];
        for m in v1_mem {
            if m.join("memory.max_usage_in_bytes").exists() {
                let rel = m.strip_prefix(root.join("memory")).ok()?.to_path_buf();
                let cpu = ["cpuacct", "cpu,cpuacct", "cpu"]
                    .iter()
                    .map(|c| root.join(c).join(&rel).join("cpuacct.usage"))
                    .find(|p| p.exists())
                    .unwrap_or_default();
                return Some(CgroupFiles {
                    memory_peak: m.join("memory.max_usage_in_bytes"),
                    cpu,
                    oom: m.join("memory.oom_control"),
                    v2: false,
                });
            }
        }
        let v2 = [
            root.join(format!("system.slice/docker-{id}.scope")),
            root.join("docker").join(id),
            root.join(format!("machine.slice/libpod-{id}.scope")),
            root.join(format!("libpod_parent/libpod-{id}")),
        ];
        for d in v2 {
            if d.join("memory.peak").exists() || d.join("cpu.stat").exists() {
                return Some(CgroupFiles {
                    memory_peak: d.join("memory.peak"),
                    cpu: d.join("cpu.stat"),
                    oom: d.join("memory.events"),
                    v2: true,
                });
            }
        }
        None
    }

    fn oom_kills(&self) -> u64 {
        std::fs::read_to_string(&self.oom)
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0)
    }

    fn read(&self) -> (Option<(u64, &'static str)>, Option<f64>) {
        let peak = std::fs::read_to_string(&self.memory_peak)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|b| (b, if self.v2 { "cgroup_v2_memory_peak" } else { "cgroup_v1_max_usage" }));
        let cpu = std::fs::read_to_string(&self.cpu).ok().and_then(|s| {
            if self.v2 {
                s.lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .map(|us| us / 1e6)
            } else {
                s.trim().parse::<f64>().ok().map(|ns| ns / 1e9)
            }
        });
        (peak, cpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "169ae87a9a08169ae87a9a08169ae87a9a08169ae87a9a08169ae87a9a081234";

    #[test]
    fn finds_cgroup_v1_cgroupfs_layout() {
        let root = tempfile::tempdir().expect("tmp");
        let mem = root.path().join("memory/docker").join(ID);
        let cpu = root.path().join("cpu,cpuacct/docker").join(ID);
        std::fs::create_dir_all(&mem).expect("mkdir");
        std::fs::create_dir_all(&cpu).expect("mkdir");
        std::fs::write(mem.join("memory.max_usage_in_bytes"), "134217728\n").expect("write");
        std::fs::write(mem.join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n").expect("write");
        std::fs::write(cpu.join("cpuacct.usage"), "2500000000\n").expect("write");
        let f = CgroupFiles::find(root.path(), ID).expect("found");
        assert_eq!(f.read(), (Some((134_217_728, "cgroup_v1_max_usage")), Some(2.5)));
        assert_eq!(f.oom_kills(), 2);
    }

    #[test]
    fn finds_cgroup_v2_systemd_layout() {
        let root = tempfile::tempdir().expect("tmp");
        let d = root.path().join(format!("system.slice/docker-{ID}.scope"));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("memory.peak"), "1048576\n").expect("write");
        std::fs::write(d.join("cpu.stat"), "usage_usec 1500000\nuser_usec 1000000\n").expect("write");
        let f = CgroupFiles::find(root.path(), ID).expect("found");
        assert_eq!(f.read(), (Some((1_048_576, "cgroup_v2_memory_peak")), Some(1.5)));
    }

    #[test]
    fn finds_podman_cgroup_v1_layout() {
        let root = tempfile::tempdir().expect("tmp");
        let mem = root.path().join(format!("memory/libpod_parent/libpod-{ID}"));
        std::fs::create_dir_all(&mem).expect("mkdir");
        std::fs::write(mem.join("memory.max_usage_in_bytes"), "4096\n").expect("write");
        let f = CgroupFiles::find(root.path(), ID).expect("found");
        assert_eq!(f.read().0, Some((4096, "cgroup_v1_max_usage")));
    }

    #[test]
    fn refuses_ids_that_are_not_hex() {
        let root = tempfile::tempdir().expect("tmp");
        assert!(CgroupFiles::find(root.path(), "../../etc").is_none());
        assert!(CgroupFiles::find(root.path(), ID).is_none());
    }
}
