//! Slurm: the batch script (rendered by a pure function, a test per
//! directive), and the three commands finsandbox drives: `sbatch`, `squeue`,
//! `scancel`. Nothing else of Slurm is assumed: no accounting database, no
//! plugins, no `srun`.
//!
//! Why these directives:
//! - `--array=LIST%P`: shards, not one task per strategy (sites cap array
//!   sizes), and `%P` is the throttle;
//! - `--mem`: the job's memory must cover every container the worker runs at
//!   once plus the CLI itself; containers started through `docker run` are
//!   not in the job's cgroup, so this is what keeps the scheduler's books
//!   honest rather than a limit it enforces on them;
//! - `--signal=B:TERM@60`: a time limit sends SIGTERM to the worker a minute
//!   before the kill, and the worker removes its containers (they would
//!   outlive the job otherwise). `scancel` sends SIGTERM too, and SIGKILL
//!   only after the cluster's `KillWait`;
//! - `exec` in the script: the worker is the batch step's main process, so
//!   those signals reach it, not a shell.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{EngineError, ScaleError};

/// What the CLI itself needs beside its containers, in MiB.
pub const CLI_OVERHEAD_MIB: u64 = 512;
/// Seconds before a time limit at which the worker gets SIGTERM.
pub const SIGNAL_GRACE_SECONDS: u64 = 60;
const QUICK: Duration = Duration::from_secs(60);

/// Slurm's commands, found on PATH.
pub struct Slurm {
    sbatch: PathBuf,
    squeue: PathBuf,
    scancel: PathBuf,
}

/// A task of one of the run's jobs, as `squeue` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub job_id: String,
    pub task: usize,
    pub state: Queue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Queue {
    Pending,
    Running,
}

impl Slurm {
    /// Slurm's commands on `path` (the `PATH` the command was started with).
    pub fn locate(path: Option<&str>) -> Result<Slurm, ScaleError> {
        let find = |name: &str| {
            which::which_in(name, path, "/").map_err(|_| ScaleError::SchedulerNotFound { name: name.into() })
        };
        Ok(Slurm { sbatch: find("sbatch")?, squeue: find("squeue")?, scancel: find("scancel")? })
    }

    /// `sbatch --parsable EXTRA SCRIPT`; the job id.
    pub fn submit(&self, script: &Path, extra: &[String]) -> Result<String, ScaleError> {
        let mut args = vec!["--parsable".to_string()];
        args.extend(extra.iter().cloned());
        args.push(script.display().to_string());
        let out = run(&self.sbatch, &args[..])?;
        parse_job_id(&out).ok_or_else(|| ScaleError::SchedulerCommand {
            command: format!("{} --parsable ...", self.sbatch.display()),
            status: "no job id".into(),
            stderr: out,
        })
    }

    /// `sbatch ARGS` (a `--wrap` job); the job id.
    pub fn submit_args(&self, args: &[String]) -> Result<String, ScaleError> {
        let mut all = vec!["--parsable".to_string()];
        all.extend(args.iter().cloned());
        let out = run(&self.sbatch, &all[..])?;
        parse_job_id(&out).ok_or_else(|| ScaleError::SchedulerCommand {
            command: format!("{} --parsable ...", self.sbatch.display()),
            status: "no job id".into(),
            stderr: out,
        })
    }

    /// Whether job `id` (any of its tasks) is still in the queue.
    pub fn in_queue(&self, id: &str) -> Result<bool, ScaleError> {
        let out = run(&self.squeue, &["--noheader", "--me", "--format=%A"][..])?;
        Ok(out.lines().any(|l| l.trim() == id))
    }

    /// Submit, then poll the queue until the job has left it (or `timeout`):
    /// quicker than `sbatch --wait`, whose polling backs off to 30 s.
    pub fn submit_and_wait(&self, args: &[String], timeout: Duration) -> Result<String, ScaleError> {
        let id = self.submit_args(args)?;
        let start = std::time::Instant::now();
        while self.in_queue(&id)? {
            if start.elapsed() > timeout {
                let _ = self.cancel(std::slice::from_ref(&id));
                return Err(ScaleError::SchedulerCommand {
                    command: format!("job {id}"),
                    status: format!("still queued or running after {}s, cancelled", timeout.as_secs()),
                    stderr: String::new(),
                });
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(id)
    }

    /// The queued and running tasks of these jobs (finished ones are gone).
    pub fn queue(&self, job_ids: &[String]) -> Result<Vec<Queued>, ScaleError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        // All of this user's jobs, filtered here: `--jobs` fails outright
        // when one of the ids has left the controller's memory.
        let out = run(&self.squeue, &["--noheader", "--array", "--me", "--format=%F|%K|%t"][..])?;
        Ok(parse_queue(&out, job_ids))
    }

    /// `scancel IDS`; jobs already finished are not an error.
    pub fn cancel(&self, job_ids: &[String]) -> Result<(), ScaleError> {
        if job_ids.is_empty() {
            return Ok(());
        }
        match run(&self.scancel, job_ids) {
            Err(ScaleError::SchedulerCommand { stderr, .. })
                if stderr.contains("Invalid job id") || stderr.contains("already completing or completed") =>
            {
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }
}

/// One Slurm command with a deadline, its stdout; failures carry the
/// command and stderr (the engine's runner does exactly this).
fn run<S: AsRef<str>>(program: &Path, args: &[S]) -> Result<String, ScaleError> {
    let runner = crate::engine::Engine::new(program.to_path_buf());
    match runner.run(args.iter().map(|a| a.as_ref()), QUICK) {
        Ok(out) => Ok(out.stdout),
        Err(EngineError::Command { command, status, stderr }) => {
            Err(ScaleError::SchedulerCommand { command, status, stderr })
        }
        Err(e) => Err(ScaleError::SchedulerCommand {
            command: program.display().to_string(),
            status: "did not finish".into(),
            stderr: e.to_string(),
        }),
    }
}

/// `123` or `123;cluster` (sbatch --parsable).
pub fn parse_job_id(stdout: &str) -> Option<String> {
    let id = stdout.trim().split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
}

/// `squeue --array --format=%F|%K|%t` lines of the given jobs. Pending and
/// configuring tasks are pending; running and completing ones running;
/// anything else (suspended, ...) counts as pending: it is still queued.
pub fn parse_queue(text: &str, job_ids: &[String]) -> Vec<Queued> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.trim().split('|');
        let (Some(job), Some(task), Some(state)) = (f.next(), f.next(), f.next()) else { continue };
        let Ok(task) = task.parse::<usize>() else { continue };
        if !job_ids.iter().any(|j| j == job) {
            continue;
        }
        let state = match state {
            "R" | "CG" => Queue::Running,
            _ => Queue::Pending,
        };
        out.push(Queued { job_id: job.to_string(), task, state });
    }
    out
}

/// What the batch script is rendered from.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub run_id: String,
    pub run_dir: PathBuf,
    /// This finsandbox binary: the workers run the same one.
    pub exe: PathBuf,
    pub engine: Option<String>,
    /// The submitter's PATH: Slurm may start the job with a bare one.
    pub path_env: String,
    pub shards: Vec<usize>,
    pub parallel: Option<usize>,
    pub mem_mib: u64,
    pub cpus: u32,
}

/// `0-9`, `1,3-5,8`, with `%P` when throttled.
pub fn array_spec(shards: &[usize], parallel: Option<usize>) -> String {
    let mut sorted = shards.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        parts.push(if sorted[i] == start { start.to_string() } else { format!("{start}-{}", sorted[i]) });
        i += 1;
    }
    let mut s = parts.join(",");
    if let Some(p) = parallel {
        s.push_str(&format!("%{}", p.max(1)));
    }
    s
}

/// Memory for a worker: each of its `jobs` containers at its limit, plus the CLI.
pub fn mem_mib(container_bytes: u64, jobs: usize) -> u64 {
    (container_bytes.saturating_mul(jobs.max(1) as u64)).div_ceil(1 << 20) + CLI_OVERHEAD_MIB
}

/// CPUs for a worker: its containers' limits, rounded up, at least one.
pub fn cpus_per_task(cpus: f64, jobs: usize) -> u32 {
    ((cpus * jobs.max(1) as f64).ceil() as u32).max(1)
}

/// Characters allowed in paths written into `#SBATCH` lines, which Slurm
/// does not unquote.
pub fn directive_safe(p: &Path) -> bool {
    p.to_str().is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,=@".contains(c)))
}

/// The batch script: one array task per shard, each `exec`ing the worker.
pub fn render_script(j: &JobSpec) -> String {
    let dir = j.run_dir.display();
    let mut s = String::from("#!/bin/sh\n");
    s.push_str(&format!("# finsandbox {} run {}: one array task per shard.\n", env!("CARGO_PKG_VERSION"), j.run_id));
    let mut d = |v: String| s.push_str(&format!("#SBATCH {v}\n"));
    d(format!("--job-name=finsandbox-{}", j.run_id));
    d(format!("--array={}", array_spec(&j.shards, j.parallel)));
    d("--ntasks=1".into());
    d(format!("--cpus-per-task={}", j.cpus));
    d(format!("--mem={}M", j.mem_mib));
    d(format!("--chdir={dir}"));
    d(format!("--output={dir}/{}/shard-%a-job-%A.out", super::rundir::LOGS));
    d("--open-mode=append".into());
    d(format!("--signal=B:TERM@{SIGNAL_GRACE_SECONDS}"));
    d("--kill-on-invalid-dep=yes".into());
    s.push_str(&format!("export PATH={}\n", sh_quote(&j.path_env)));
    let mut cmd = format!("exec {}", sh_quote(&j.exe.display().to_string()));
    if let Some(e) = &j.engine {
        cmd.push_str(&format!(" --engine {}", sh_quote(e)));
    }
    cmd.push_str(&format!(
        " batch worker --run-dir {} --shard \"$SLURM_ARRAY_TASK_ID\"\n",
        sh_quote(&j.run_dir.display().to_string())
    ));
    s.push_str(&cmd);
    s
}

/// The canary job's command: this binary's `doctor`, its JSON report on
/// stdout; `; exit 0` so the job ends cleanly and the report is judged here.
pub fn doctor_wrap(exe: &Path, engine: Option<&str>, path_env: &str, doctor_args: &[String]) -> String {
    let mut s = format!("export PATH={}; {} --json", sh_quote(path_env), sh_quote(&exe.display().to_string()));
    if let Some(e) = engine {
        s.push_str(&format!(" --engine {}", sh_quote(e)));
    }
    s.push_str(" doctor");
    for a in doctor_args {
        s.push(' ');
        s.push_str(&sh_quote(a));
    }
    s.push_str("; exit 0");
    s
}

/// A job that runs `finsandbox cleanup` on another node that ran a shard:
/// after `scancel` its workers are gone, so their containers are orphans
/// there, and nothing else is touched.
pub fn reaper_args(host: &str, exe: &Path, engine: Option<&str>, path_env: &str) -> Vec<String> {
    let mut wrap = format!("export PATH={}; exec {}", sh_quote(path_env), sh_quote(&exe.display().to_string()));
    if let Some(e) = engine {
        wrap.push_str(&format!(" --engine {}", sh_quote(e)));
    }
    wrap.push_str(" cleanup");
    vec![
        format!("--nodelist={host}"),
        "--ntasks=1".into(),
        "--job-name=finsandbox-reap".into(),
        "--output=/dev/null".into(),
        format!("--wrap={wrap}"),
    ]
}

pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> JobSpec {
        JobSpec {
            run_id: "abc".into(),
            run_dir: PathBuf::from("/shared/runs/R1"),
            exe: PathBuf::from("/usr/local/bin/finsandbox"),
            engine: None,
            path_env: "/usr/local/bin:/usr/bin:/bin".into(),
            shards: vec![0, 1, 2, 3],
            parallel: Some(2),
            mem_mib: 2560,
            cpus: 1,
        }
    }

    fn directives(s: &str) -> Vec<&str> {
        s.lines().filter_map(|l| l.strip_prefix("#SBATCH ")).collect()
    }

    #[test]
    fn array_lists_shards_as_ranges_with_the_throttle() {
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[8, 1, 3, 4, 5], None), "1,3-5,8");
        assert_eq!(array_spec(&[7], Some(0)), "7%1");
        assert!(directives(&render_script(&spec())).contains(&"--array=0-3%2"));
    }

    #[test]
    fn memory_covers_every_container_and_the_cli() {
        assert_eq!(mem_mib(2 << 30, 1), 2048 + CLI_OVERHEAD_MIB);
        assert_eq!(mem_mib(512 << 20, 3), 1536 + CLI_OVERHEAD_MIB);
        assert_eq!(mem_mib((1 << 20) + 1, 1), 2 + CLI_OVERHEAD_MIB, "rounded up, never under");
        assert!(directives(&render_script(&spec())).contains(&"--mem=2560M"));
    }

    #[test]
    fn cpus_cover_the_containers_limits() {
        assert_eq!(cpus_per_task(0.5, 1), 1);
        assert_eq!(cpus_per_task(0.5, 3), 2);
        assert_eq!(cpus_per_task(2.0, 2), 4);
        assert!(directives(&render_script(&spec())).contains(&"--cpus-per-task=1"));
    }

    #[test]
    fn output_goes_to_the_run_dir_per_shard() {
        let s = render_script(&spec());
        assert!(directives(&s).contains(&"--output=/shared/runs/R1/logs/shard-%a-job-%A.out"));
        assert!(directives(&s).contains(&"--chdir=/shared/runs/R1"));
    }

    #[test]
    fn the_worker_gets_sigterm_before_a_time_limit() {
        assert!(directives(&render_script(&spec())).contains(&"--signal=B:TERM@60"));
    }

    #[test]
    fn one_task_per_shard_and_dependencies_that_cannot_be_met_cancel() {
        let s = render_script(&spec());
        assert!(directives(&s).contains(&"--ntasks=1"));
        assert!(directives(&s).contains(&"--kill-on-invalid-dep=yes"));
        assert!(directives(&s).contains(&"--job-name=finsandbox-abc"));
    }

    #[test]
    fn the_script_execs_this_binary_with_path_and_engine() {
        let mut j = spec();
        j.engine = Some("podman".into());
        let s = render_script(&j);
        assert!(s.contains("export PATH='/usr/local/bin:/usr/bin:/bin'\n"), "{s}");
        assert!(s.ends_with(
            "exec '/usr/local/bin/finsandbox' --engine 'podman' batch worker --run-dir '/shared/runs/R1' --shard \"$SLURM_ARRAY_TASK_ID\"\n"
        ), "{s}");
        assert!(s.starts_with("#!/bin/sh\n"));
    }

    #[test]
    fn the_canary_job_runs_this_binarys_doctor_and_always_reports() {
        let w = doctor_wrap(Path::new("/bin/fs"), Some("docker"), "/usr/bin", &["--runtime".into(), "runc".into()]);
        assert_eq!(w, "export PATH='/usr/bin'; '/bin/fs' --json --engine 'docker' doctor '--runtime' 'runc'; exit 0");
    }

    #[test]
    fn a_reaper_runs_cleanup_on_the_named_node() {
        let a = reaper_args("node7", Path::new("/bin/fs"), None, "/usr/bin");
        assert_eq!(a[0], "--nodelist=node7");
        assert_eq!(a.last().map(String::as_str), Some("--wrap=export PATH='/usr/bin'; exec '/bin/fs' cleanup"));
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote("a'b"), "'a'\\''b'");
    }

    #[test]
    fn only_plain_paths_go_into_directives() {
        assert!(directive_safe(Path::new("/shared/runs/R-1_x")));
        assert!(!directive_safe(Path::new("/shared/my runs/R1")));
        assert!(!directive_safe(Path::new("/x/$(id)")));
    }

    #[test]
    fn job_ids_parse_with_or_without_a_cluster() {
        assert_eq!(parse_job_id("123\n").as_deref(), Some("123"));
        assert_eq!(parse_job_id("45;cluster\n").as_deref(), Some("45"));
        assert_eq!(parse_job_id("Submitted batch job 4"), None);
    }

    #[test]
    fn the_queue_keeps_only_our_jobs_tasks() {
        let text = "7|0|R\n7|1|PD\n7|2|CG\n8|0|R\n7|N/A|PD\n";
        let q = parse_queue(text, &["7".to_string()]);
        assert_eq!(
            q.iter().map(|x| (x.task, x.state)).collect::<Vec<_>>(),
            [(0, Queue::Running), (1, Queue::Pending), (2, Queue::Running)]
        );
    }
}
