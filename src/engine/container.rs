//! The one `docker run` of a sandbox: spawned here and nowhere else, in its
//! own process group (a terminal's Ctrl-C reaches finsandbox only, and
//! finsandbox decides how the container ends), with the harness input on
//! stdin and both output streams on pipes the caller drains.
//!
//! [`ContainerGuard`] removes the container if the caller unwinds (a panic,
//! an early `?`) before it disarms the guard: imitating cross's
//! `ChildContainer`, the guard is the last line of "nothing left behind".

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::time::Duration;

use super::command::Engine;
use crate::error::EngineError;

/// How long to wait for the engine CLI to exit after `docker kill`.
const KILL_GRACE: Duration = Duration::from_secs(15);

/// A running `docker run` child and the read ends of its output pipes.
pub struct RunningContainer {
    handle: duct::Handle,
    /// The container's stdin: the caller writes the harness's input here,
    /// in phases, and drops it to close.
    pub stdin: Option<os_pipe::PipeWriter>,
    pub stdout: Option<os_pipe::PipeReader>,
    pub stderr: Option<os_pipe::PipeReader>,
}

/// Start `engine ARGS` (a `docker run` vector from [`super::run_args`]);
/// its stdin is a pipe the caller writes. `workdir` is the CLI's working
/// directory: the run's private directory, never the user's, because what
/// the engine's helpers drop in their working directory must go with the
/// run (Podman's conmon writes a file named `oom` there when the container
/// is OOM-killed).
pub fn start(engine: &Engine, args: &[OsString], workdir: &std::path::Path) -> Result<RunningContainer, EngineError> {
    let pipe_err = |e: std::io::Error| EngineError::Command {
        command: engine.name() + " run",
        status: "could not create a pipe".into(),
        stderr: e.to_string(),
    };
    let (out_r, out_w) = os_pipe::pipe().map_err(pipe_err)?;
    let (err_r, err_w) = os_pipe::pipe().map_err(pipe_err)?;
    let (in_r, in_w) = os_pipe::pipe().map_err(pipe_err)?;
    let expr = duct::cmd(&engine.program, args)
        .stdin_file(in_r)
        .stdout_file(out_w)
        .stderr_file(err_w)
        .dir(workdir)
        .unchecked()
        .before_spawn(|cmd| {
            cmd.process_group(0);
            Ok(())
        });
    let handle = expr.start().map_err(|e| EngineError::Command {
        command: engine.name() + " run",
        status: "could not start".into(),
        stderr: e.to_string(),
    })?;
    // Our copies of the pipes' write ends live in the expression: drop it so
    // the readers see end-of-file when the engine CLI exits.
    drop(expr);
    Ok(RunningContainer { handle, stdin: Some(in_w), stdout: Some(out_r), stderr: Some(err_r) })
}

impl RunningContainer {
    /// The CLI's exit code once it has exited, `None` while it runs.
    pub fn wait_timeout(&self, d: Duration) -> std::io::Result<Option<Option<i32>>> {
        Ok(self.handle.wait_timeout(d)?.map(|out| out.status.code()))
    }

    /// Kill the container, then make sure the engine CLI exits too.
    pub fn stop(&self, engine: &Engine, name: &str) {
        let _ = super::kill(engine, name);
        match self.handle.wait_timeout(KILL_GRACE) {
            Ok(Some(_)) => {}
            _ => {
                let _ = self.handle.kill();
            }
        }
    }
}

/// Removes the named container on drop unless disarmed.
pub struct ContainerGuard<'a> {
    engine: &'a Engine,
    name: String,
    armed: bool,
}

impl<'a> ContainerGuard<'a> {
    pub fn new(engine: &'a Engine, name: &str) -> Self {
        ContainerGuard { engine, name: name.to_string(), armed: true }
    }

    /// The caller has removed (or deliberately kept) the container.
    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for ContainerGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = super::remove(self.engine, &self.name);
        }
    }
}
