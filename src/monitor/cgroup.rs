//! The container's own cgroup counters, read from the host: the kernel's
//! memory peak (exact, unlike 1 s `docker stats` samples), CPU time, and the
//! OOM-kill count. v1 and v2, cgroupfs and systemd drivers, docker and podman
//! layouts.

use std::path::{Path, PathBuf};

/// The counter files of one container's cgroup, v1 or v2, cgroupfs or
/// systemd driver. Absent (a remote engine, another layout): `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupFiles {
    memory_peak: PathBuf,
    cpu: PathBuf,
    /// v1 `memory.oom_control` or v2 `memory.events`: both have `oom_kill N`.
    oom: PathBuf,
    /// v1: the directory holding `cpu.cfs_quota_us`; v2: the cgroup itself
    /// (`cpu.max`).
    cpu_limit_dir: PathBuf,
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
                let cpu_limit_dir = ["cpu,cpuacct", "cpu"]
                    .iter()
                    .map(|c| root.join(c).join(&rel))
                    .find(|d| d.join("cpu.cfs_quota_us").exists())
                    .unwrap_or_default();
                return Some(CgroupFiles {
                    memory_peak: m.join("memory.max_usage_in_bytes"),
                    cpu,
                    cpu_limit_dir,
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
                    cpu_limit_dir: d.clone(),
                    memory_peak: d.join("memory.peak"),
                    cpu: d.join("cpu.stat"),
                    oom: d.join("memory.events"),
                    v2: true,
                });
            }
        }
        None
    }

    /// The CPU quota the kernel enforces, in CPUs (`None`: unlimited or
    /// unreadable).
    pub fn cpu_quota(&self) -> Option<f64> {
        let read = |f: &str| std::fs::read_to_string(self.cpu_limit_dir.join(f)).ok();
        if self.v2 {
            parse_cpu_max(&read("cpu.max")?)
        } else {
            parse_cfs(&read("cpu.cfs_quota_us")?, &read("cpu.cfs_period_us")?)
        }
    }

    pub fn oom_kills(&self) -> u64 {
        std::fs::read_to_string(&self.oom)
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0)
    }

    pub fn read(&self) -> (Option<(u64, &'static str)>, Option<f64>) {
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

/// cgroup v2 `cpu.max`: `QUOTA PERIOD` in microseconds, or `max PERIOD`.
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut f = text.split_whitespace();
    let quota: f64 = f.next()?.parse().ok()?;
    let period: f64 = f.next()?.parse().ok()?;
    (period > 0.0).then(|| quota / period)
}

/// cgroup v1 `cpu.cfs_quota_us` (-1: unlimited) over `cpu.cfs_period_us`.
pub fn parse_cfs(quota: &str, period: &str) -> Option<f64> {
    let quota: f64 = quota.trim().parse().ok()?;
    let period: f64 = period.trim().parse().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quotas_parse_in_both_versions() {
        assert_eq!(parse_cpu_max("50000 100000\n"), Some(0.5));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cfs("150000\n", "100000\n"), Some(1.5));
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("garbage", "100000"), None);
    }

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
