//! Running short engine commands (`version`, `inspect`, `kill`, `rm`, `ps`).
//!
//! Each call has a deadline: a wedged daemon must turn into a clear error, not
//! a hung cron job. A failure carries the shell-joined command and the trimmed
//! stderr, which is what a user needs to reproduce it by hand.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::EngineError;

/// The engine CLI (`docker`, or a compatible binary such as `podman`).
#[derive(Debug, Clone)]
pub struct Engine {
    pub program: PathBuf,
}

pub struct Output {
    pub stdout: String,
}

/// Which CLI dialect the engine speaks where docker and podman differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Docker,
    Podman,
}

impl Engine {
    pub fn new(program: PathBuf) -> Self {
        Engine { program }
    }

    /// Podman by its binary's name (`podman`, `podman-remote`); anything else
    /// is treated as Docker-compatible.
    pub fn flavor(&self) -> Flavor {
        if self.name().starts_with("podman") {
            Flavor::Podman
        } else {
            Flavor::Docker
        }
    }

    /// The engine's short name, as users would type it.
    pub fn name(&self) -> String {
        self.program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "docker".into())
    }

    /// `engine ARGS` as an expression the caller pipes or streams (an image
    /// import fed by `tar`, a build whose output the user watches).
    pub fn expression<I, S>(&self, args: I) -> duct::Expression
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
        duct::cmd(&self.program, args)
    }

    /// Run `engine ARGS`, capture both streams, fail on non-zero exit or on
    /// `timeout`.
    pub fn run<I, S>(&self, args: I, timeout: Duration) -> Result<Output, EngineError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
        let command = shell_join(&self.program, &args);
        let handle = duct::cmd(&self.program, &args)
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .start()
            .map_err(|e| EngineError::Command {
                command: command.clone(),
                status: "could not start".into(),
                stderr: e.to_string(),
            })?;
        let waited = handle.wait_timeout(timeout).map_err(|e| EngineError::Command {
            command: command.clone(),
            status: "wait failed".into(),
            stderr: e.to_string(),
        })?;
        let Some(out) = waited else {
            let _ = handle.kill();
            return Err(EngineError::CommandTimeout { command, seconds: timeout.as_secs().max(1) });
        };
        if !out.status.success() {
            return Err(EngineError::Command {
                command,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(Output { stdout: String::from_utf8_lossy(&out.stdout).into_owned() })
    }
}

/// A copy-pasteable rendering of a command line. Long arguments (the embedded
/// harness) are elided: the point is to show which command failed.
pub fn shell_join(program: &Path, args: &[OsString]) -> String {
    let mut out = quote(&program.to_string_lossy());
    for a in args {
        out.push(' ');
        let s = a.to_string_lossy();
        if s.len() > 200 {
            out.push_str("'<");
            out.push_str(&s.len().to_string());
            out.push_str(" bytes>'");
        } else {
            out.push_str(&quote(&s));
        }
    }
    out
}

fn quote(s: &str) -> String {
    let safe = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_join_quotes_what_needs_it() {
        let args: Vec<OsString> = ["ps", "-a", "--filter", "label=a b", "it's"].iter().map(OsString::from).collect();
        assert_eq!(shell_join(Path::new("docker"), &args), "docker ps -a --filter 'label=a b' 'it'\\''s'");
    }

    #[test]
    fn shell_join_elides_huge_arguments() {
        let args = vec![OsString::from("x".repeat(5000))];
        assert_eq!(shell_join(Path::new("docker"), &args), "docker '<5000 bytes>'");
    }

    #[test]
    fn failing_command_carries_command_and_stderr() {
        let e = Engine::new(PathBuf::from("/bin/sh"));
        let err = e.run(["-c", "echo boom >&2; exit 3"], Duration::from_secs(5)).err().expect("fails");
        let msg = err.to_string();
        assert!(msg.contains("/bin/sh -c"), "{msg}");
        assert!(msg.contains("boom"), "{msg}");
    }

    #[test]
    fn slow_command_times_out() {
        let e = Engine::new(PathBuf::from("/bin/sleep"));
        let start = std::time::Instant::now();
        let err = e.run(["5"], Duration::from_millis(300)).err().expect("times out");
        assert!(matches!(err, EngineError::CommandTimeout { .. }), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
