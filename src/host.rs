//! Facts about this host and this moment that runs are labelled and judged
//! by: the boot id, run ids, the clock, content hashes, and whether a
//! process still runs. Small and at the bottom, so no module has to reach
//! up into another for them.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// This boot's id (`/proc/sys/kernel/random/boot_id`), to tell a container
/// of an earlier boot from one of a live run.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// 16 hex digits from the kernel's random source.
pub fn new_run_id() -> String {
    let mut b = [0u8; 8];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).is_ok();
    if !filled {
        // Unique enough without /dev/urandom: time and pid.
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        b = ((t as u64) ^ (u64::from(std::process::id()) << 40)).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether process `pid` runs and, when `start` is given, started at that
/// time (clock ticks since boot, field 22 of `/proc/PID/stat`).
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    match (process_start_time(pid), start) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(actual), Some(expected)) => actual == expected,
    }
}

pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count
    // fields from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_16_hex_and_distinct() {
        let a = new_run_id();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, new_run_id());
    }

    #[test]
    fn this_process_is_alive_and_its_start_time_matches() {
        let me = std::process::id();
        let start = process_start_time(me);
        assert!(start.is_some());
        assert!(process_alive(me, start));
        assert!(!process_alive(me, start.map(|s| s + 1)), "a reused pid must not count as the owner");
        assert!(!process_alive(u32::MAX - 1, None));
    }
}
