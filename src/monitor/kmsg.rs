//! The kernel's own record of OOM kills, read from `/dev/kmsg`.
//!
//! Why: the cgroup's `oom_kill` counter vanishes with the cgroup, and Podman
//! (cgroup v1, runc) removes the cgroup the instant the container exits and
//! reports `OOMKilled: false` for a real OOM kill. A memory bomb reaches its
//! limit in milliseconds, so a 100 ms cgroup poll misses the kill about one
//! run in three. The kernel writes one `oom-kill:` record per kill, naming
//! the memory cgroup whose limit was hit, synchronously before the process
//! dies: a reader positioned at the end of the log before the container
//! starts finds every such record once the container has exited.
//!
//! Nothing here trusts the container: a process inside cannot write to the
//! kernel log (no `/dev/kmsg` in the container, `syslog(2)` denied), the only
//! field it influences is its own name (`task=`, at most 15 bytes, after the
//! `oom_memcg=` field we read), and a record counts only when its memory
//! cgroup path names this container's full 64-hex id.
//!
//! Unavailable (not root with `dmesg_restrict=1`, a remote engine, another
//! kernel): `None`, and the other two sources (the engine's flag, the cgroup
//! poll) stand alone.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;

/// At most this many records are read after a run (a log flooded by
/// something else must not stall the verdict).
const MAX_RECORDS: usize = 200_000;

/// An open reader of the kernel log, positioned at its end when opened.
pub struct KernelLog {
    file: File,
}

impl KernelLog {
    /// Open `/dev/kmsg` at its current end; `None` if it cannot be read.
    pub fn open() -> Option<KernelLog> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/kmsg")
            .ok()?;
        file.seek(SeekFrom::End(0)).ok()?;
        Some(KernelLog { file })
    }

    /// The memory-cgroup paths of every `oom-kill:` record written since
    /// [`KernelLog::open`] (or the last call).
    pub fn oom_kill_cgroups(&mut self) -> Vec<String> {
        let mut found = Vec::new();
        // One read returns one record; a record is at most ~8 KiB.
        let mut buf = vec![0u8; 16 * 1024];
        for _ in 0..MAX_RECORDS {
            match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(path) = oom_memcg(&String::from_utf8_lossy(&buf[..n])) {
                        found.push(path.to_string());
                    }
                }
                // Records overwritten while we read: go on from the oldest kept.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // WouldBlock: the end of the log; anything else: stop.
                Err(_) => break,
            }
        }
        found
    }
}

/// The memory cgroup named by one kmsg record, if it is an OOM-kill record:
/// `prio,seq,usec,flags;oom-kill:constraint=CONSTRAINT_MEMCG,...,oom_memcg=/path,...`.
pub fn oom_memcg(record: &str) -> Option<&str> {
    let (_, message) = record.split_once(';')?;
    let message = message.lines().next()?;
    let fields = message.strip_prefix("oom-kill:")?;
    fields.split(',').find_map(|f| f.strip_prefix("oom_memcg=")).filter(|p| p.starts_with('/'))
}

/// How many of `cgroups` are the cgroup of the container with this id (full
/// 64-hex id; any layout: `/docker/<id>`, `/libpod_parent/libpod-<id>`,
/// `/system.slice/docker-<id>.scope`, `.../libpod-<id>.scope/container`).
pub fn kills_of(cgroups: &[String], container_id: &str) -> u64 {
    if container_id.len() != 64 || !container_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return 0;
    }
    let ours = |path: &str| {
        path.split('/').any(|seg| {
            let seg = seg.strip_suffix(".scope").unwrap_or(seg);
            seg == container_id || seg.rsplit_once('-').is_some_and(|(_, id)| id == container_id)
        })
    };
    cgroups.iter().filter(|p| ours(p)).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "b300f90d96e1543e44de1a251a7d8fd3d6806c0384bcd39f5facb349e979b59c";

    fn record(memcg: &str) -> String {
        format!(
            "6,1234,18765496375,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=libpod-{ID},\
             mems_allowed=0,oom_memcg={memcg},task_memcg={memcg},task=python3,pid=30228,uid=1000\n"
        )
    }

    #[test]
    fn reads_the_memcg_of_an_oom_kill_record() {
        let r = record(&format!("/libpod_parent/libpod-{ID}"));
        assert_eq!(oom_memcg(&r), Some(format!("/libpod_parent/libpod-{ID}").as_str()));
    }

    #[test]
    fn other_records_are_not_oom_kills() {
        for r in [
            "4,99,1,-;python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0\n",
            "6,100,2,-;Memory cgroup out of memory: Killed process 30228 (python3)\n",
            "6,101,3,-;oom_memcg=/docker/x\n",
            "no separator oom-kill:oom_memcg=/docker/x",
            "",
        ] {
            assert_eq!(oom_memcg(r), None, "{r}");
        }
    }

    #[test]
    fn continuation_lines_are_ignored() {
        let r = format!("6,1,2,-;hello\n SUBSYSTEM=x\n oom-kill:oom_memcg=/docker/{ID}\n");
        assert_eq!(oom_memcg(&r), None);
    }

    #[test]
    fn every_engine_layout_matches_only_its_own_container() {
        for path in [
            format!("/docker/{ID}"),
            format!("/libpod_parent/libpod-{ID}"),
            format!("/system.slice/docker-{ID}.scope"),
            format!("/machine.slice/libpod-{ID}.scope/container"),
        ] {
            assert_eq!(kills_of(std::slice::from_ref(&path), ID), 1, "{path}");
            let other = ID.replace('b', "c");
            assert_eq!(kills_of(std::slice::from_ref(&path), &other), 0, "{path}");
        }
    }

    #[test]
    fn a_prefix_or_a_short_id_never_matches() {
        let short = &ID[..12];
        assert_eq!(kills_of(&[format!("/docker/{ID}")], short), 0);
        assert_eq!(kills_of(&[format!("/docker/{ID}x")], ID), 0);
        assert_eq!(kills_of(&[format!("/docker/{}", &ID[..63])], ID), 0);
        assert_eq!(kills_of(&[format!("/docker/{ID}"), format!("/docker/{ID}")], ID), 2);
    }

    #[test]
    fn a_task_name_cannot_smuggle_a_memcg() {
        // The task name is the only field a strategy controls; it comes after
        // oom_memcg and is at most 15 bytes.
        let r = "6,1,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/docker/aaaa,task=oom_memcg=/x,pid=1\n";
        assert_eq!(oom_memcg(r), Some("/docker/aaaa"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        for r in ["\u{0};;;", ";oom-kill:", ";oom-kill:oom_memcg=", "ÿ;oom-kill:oom_memcg=/é,", ",,,;\n\n"] {
            let _ = oom_memcg(r);
        }
        assert_eq!(oom_memcg(";oom-kill:oom_memcg="), None);
    }
}
