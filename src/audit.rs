//! The audit log: one JSON line per run, for whoever must later answer "who
//! ran what, on which data, under which profile, and what happened".
//!
//! Each line carries the run's provenance (hashes of the strategy, data,
//! profile and effective config; image, engine, versions), the verdict, the
//! monitor's violations, the screening findings (rule and place, never the
//! strategy's text: the log must not become a copy of untrusted source), the
//! user (uid and name from the password database) and the host.
//!
//! Appends are safe with concurrent writers: the file is opened `O_APPEND`,
//! the line is written with one `write` under an exclusive `flock`
//! ([`crate::jsonl`]), so lines never interleave even on filesystems where
//! `O_APPEND` alone is not atomic.
//! The file is opened before the run ([`open`]): a log that cannot be
//! written refuses the run up front instead of losing its record.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::Serialize;

use crate::report::{Provenance, RunResult};

/// The current user, as cheaply as possible: the uid from the kernel, the
/// name from `/etc/passwd` (else `$USER` is not trusted: null).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub uid: u32,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Violation {
    pub rule: &'static str,
    pub action: &'static str,
    pub observed: f64,
    pub threshold: f64,
}

/// One line of the log.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    /// When the line was written, unix seconds.
    pub timestamp: u64,
    pub run_id: Option<&'a str>,
    pub strategy: &'a str,
    /// The run's status, or `error` when it had no result.
    pub status: &'a str,
    pub exit_code: i32,
    /// Null for a run that stopped before it had a result.
    pub provenance: Option<&'a Provenance>,
    pub violations: Vec<Violation>,
    pub findings: Vec<Finding>,
    /// For `error`: what stopped it.
    pub error: Option<String>,
    pub insecure: bool,
    pub user: User,
    pub host: String,
}

impl<'a> Entry<'a> {
    pub fn of_result(r: &'a RunResult, now: u64, user: User, host: String) -> Entry<'a> {
        Entry {
            timestamp: now,
            run_id: Some(&r.run_id),
            strategy: &r.strategy.path,
            status: r.status.as_str(),
            exit_code: r.status.exit_code(),
            provenance: Some(&r.provenance),
            violations: r
                .violations
                .iter()
                .map(|v| Violation { rule: v.rule, action: v.action, observed: v.observed, threshold: v.threshold })
                .collect(),
            findings: r
                .screening
                .findings
                .iter()
                .map(|f| Finding { rule: f.rule.id(), line: f.line, column: f.column, message: f.message.clone() })
                .collect(),
            error: None,
            insecure: r.insecure,
            user,
            host,
        }
    }

    /// A run that stopped with an error before it had a result.
    pub fn of_error(strategy: &'a str, error: String, exit_code: i32, now: u64, user: User, host: String) -> Entry<'a> {
        Entry {
            timestamp: now,
            run_id: None,
            strategy,
            status: "error",
            exit_code,
            provenance: None,
            violations: Vec::new(),
            findings: Vec::new(),
            error: Some(error),
            insecure: false,
            user,
            host,
        }
    }

    pub fn to_line(&self) -> String {
        // Plain data: serialisation cannot fail.
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// The name of `uid` in a passwd-format text.
pub fn name_of(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _pw = f.next()?;
        (f.next()?.parse::<u32>().ok()? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

pub fn current_user() -> User {
    // SAFETY: getuid cannot fail and has no memory effects.
    let uid = unsafe { libc::getuid() };
    let passwd = crate::fsread::read_regular(Path::new("/etc/passwd"), 4 << 20).unwrap_or_default();
    User { uid, name: name_of(&String::from_utf8_lossy(&passwd), uid) }
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// The log, open for appending (created `0600`: it names users and files).
pub struct Log {
    file: std::fs::File,
    path: std::path::PathBuf,
}

/// Open (or create) the log before any run, so an unwritable log refuses
/// the command instead of losing the record.
pub fn open(path: &Path) -> Result<Log, String> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot open the audit log `{}` for appending: {e}", path.display()))?;
    if !file.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(format!("the audit log `{}` is not a regular file", path.display()));
    }
    Ok(Log { file, path: path.to_path_buf() })
}

impl Log {
    /// One line, one `write`, under an exclusive lock ([`crate::jsonl`]).
    pub fn append(&mut self, entry: &Entry) -> Result<(), String> {
        crate::jsonl::append(&mut self.file, entry.to_line().trim_end_matches('\n'))
            .map_err(|e| format!("cannot append to the audit log `{}`: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_name_comes_from_the_passwd_text() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n#bad\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(name_of(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(name_of(passwd, 0).as_deref(), Some("root"));
        assert_eq!(name_of(passwd, 42), None);
    }

    #[test]
    fn an_error_line_is_one_json_object_with_user_and_host() {
        let user = User { uid: 7, name: Some("bob".into()) };
        let e = Entry::of_error("s.py", "engine unavailable".into(), 3, 100, user, "h1".into());
        let line = e.to_line();
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1, "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["status"], "error");
        assert_eq!(v["user"]["name"], "bob");
        assert_eq!(v["host"], "h1");
        assert_eq!(v["exit_code"], 3);
    }

    #[test]
    fn a_directory_is_not_a_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(open(dir.path()).is_err());
    }
}
