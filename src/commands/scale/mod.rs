//! `finsandbox batch submit|status|collect|cancel|worker`: a batch on Slurm.
//!
//! `submit` writes the run directory (manifest, strategy copies, batch
//! script) and calls `sbatch`; each array task is `batch worker`, the
//! ordinary [`batch::run_batch`] over one shard, on its node's engine, with
//! containers labelled by the run id. The worker checks that the data, the
//! effective config and every strategy copy still hash as submitted, and
//! runs only the strategies of its shard without a result line, so a task
//! run twice (a requeue, a `--resume`) never duplicates a line.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Context;
use crate::batch::{self, Batch, Line, Summary};
use crate::cli::{BatchAction, SubmitArgs};
use crate::config::{Observe, Settings};
use crate::engine::{self, label};
use crate::error::{code, ConfigError, Error, InputError, Result, ScaleError};
use crate::observe::{Recorded, Reporter};
use crate::printer::{CommandOutput, Render};
use crate::scale::rundir::{self, ConfigRef, DataRef, Entry, Event, Flags, Manifest, RunDir, Submission};
use crate::scale::slurm::{self, Slurm};
use crate::scale::{decide, ShardFacts, ShardState};
use crate::{host, run};

mod cancel;
mod doctor;
mod status;
mod worker;

use cancel::*;
pub use doctor::doctor;
use status::*;
use worker::*;

/// How long `cancel` waits for the jobs to leave the queue: Slurm's default
/// `KillWait` (30 s) and then some.
const CANCEL_WAIT: Duration = Duration::from_secs(120);
/// PATH for the workers when the submitter has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn dispatch(ctx: &Context, action: &BatchAction) -> Result<i32> {
    match action {
        BatchAction::Submit(a) => super::print(ctx, &submit(ctx, a)?),
        BatchAction::Status { run_dir } => super::print(ctx, &status(ctx, run_dir)?),
        BatchAction::Collect { run_dir, out } => collect(ctx, run_dir, out.as_deref()),
        BatchAction::Cancel { run_dir } => super::print(ctx, &cancel(ctx, run_dir)?),
        BatchAction::Worker { run_dir, shard } => worker(ctx, run_dir, *shard),
    }
}

// ---- submit ----

#[derive(Debug, Serialize)]
pub struct Submitted {
    pub run_dir: PathBuf,
    pub run_id: String,
    /// `None`: nothing was left to submit.
    pub job_id: Option<String>,
    pub array: String,
    pub shards: Vec<usize>,
    pub strategies: usize,
}

impl Render for Submitted {
    fn render_text(&self, _color: bool) -> String {
        let dir = self.run_dir.display();
        match &self.job_id {
            Some(j) => format!(
                "submitted job {j} (array {}): {} shard(s) of {} strategies\n  run dir {dir}\n  next: finsandbox batch status {dir}\n",
                self.array,
                self.shards.len(),
                self.strategies
            ),
            None => format!("nothing to resubmit: every shard of {dir} is done, queued or running\n"),
        }
    }
}

impl CommandOutput for Submitted {
    fn exit_code(&self) -> i32 {
        code::OK
    }
}

fn submit(ctx: &Context, a: &SubmitArgs) -> Result<Submitted> {
    let slurm = Slurm::locate(ctx.env.get("PATH").map(String::as_str))?;
    if let Some(dir) = &a.resume {
        return resubmit(ctx, &slurm, dir, a);
    }
    let (Some(data), Some(run_dir)) = (&a.data, &a.run_dir) else {
        return Err(Error::Internal("`--data` and `--run-dir` are required without `--resume`".into()));
    };
    let cwd = super::current_dir()?;
    let run_dir = cwd.join(run_dir);
    if !slurm::directive_safe(&run_dir) {
        return Err(ConfigError::Value {
            key: "--run-dir".into(),
            origin: "command line".into(),
            message: format!(
                "`{}`: use letters, digits and `/._-+,=@` only (Slurm does not unquote #SBATCH paths)",
                run_dir.display()
            ),
        }
        .into());
    }
    let mut config = ConfigRef {
        sha256: String::new(),
        file: a.config.clone(),
        cwd: cwd.clone(),
        env: recorded_env(ctx),
        flags: flags(a),
    };
    let (settings, _) = resolve_recorded(&config)?;
    config.sha256 = run::result::config_sha256(&settings);
    for reason in &settings.insecure_reasons {
        ctx.printer.warn(&format!("insecure run: {reason}"));
    }
    let data = DataRef { path: cwd.join(data), sha256: String::new() };
    let data = DataRef { sha256: data_sha256(&data.path)?, path: data.path };
    let strategies = strategies(&a.inputs)?;
    let rd = RunDir::create(&run_dir)?;
    let m = Manifest {
        format: rundir::FORMAT,
        run_id: host::new_run_id(),
        created_at: host::now_unix(),
        finsandbox_version: env!("CARGO_PKG_VERSION").into(),
        data,
        config,
        engine: ctx.cli.engine.clone(),
        shard_size: a.shard_size as usize,
        jobs: a.jobs as usize,
        strategies: copy_strategies(&rd, &strategies)?,
    };
    rd.write_manifest(&m).map_err(|e| internal("writing the manifest", e))?;
    let shards: Vec<usize> = (0..m.shards().len()).collect();
    send(ctx, &slurm, &rd, &m, &settings, shards, a)
}

/// The inputs, expanded as `batch` does, each path once.
fn strategies(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let all = batch::expand_some(inputs, &mut std::io::stdin().lock())?;
    let mut seen = BTreeSet::new();
    Ok(all.into_iter().filter(|p| seen.insert(p.clone())).collect())
}

/// Copy each strategy into the run directory, hashed as copied. A file that
/// cannot be read gets no copy: its worker reports the error line.
fn copy_strategies(rd: &RunDir, paths: &[PathBuf]) -> Result<Vec<Entry>> {
    let mut out = Vec::with_capacity(paths.len());
    for (i, p) in paths.iter().enumerate() {
        let path = p.display().to_string();
        let bytes = match crate::fsread::read_regular(p, run::MAX_STRATEGY_BYTES) {
            Ok(b) => b,
            Err(e) => {
                out.push(Entry { path, copy: None, sha256: None, unreadable: Some(e.to_string()) });
                continue;
            }
        };
        let copy = RunDir::copy_path(i, p);
        let abs = rd.root.join(&copy);
        if let Some(parent) = abs.parent() {
            std::fs::create_dir_all(parent).map_err(|e| internal("creating the strategy copies", e))?;
        }
        std::fs::write(&abs, &bytes).map_err(|e| internal("copying the strategies", e))?;
        out.push(Entry { path, copy: Some(copy), sha256: Some(host::hex_sha256(&bytes)), unreadable: None });
    }
    Ok(out)
}

fn flags(a: &SubmitArgs) -> Flags {
    Flags {
        image: a.image.clone(),
        memory: a.memory.clone(),
        cpus: a.cpus,
        timeout_seconds: a.timeout,
        runtime: a.runtime.clone(),
        start: a.start.clone(),
        end: a.end.clone(),
        skip_screening: a.skip_screening,
    }
}

/// The variables the config layers read: `FINSANDBOX_*`, `DOCKER_*`, and
/// where the user's config file is found (`XDG_CONFIG_HOME`, `HOME`).
fn recorded_env(ctx: &Context) -> BTreeMap<String, String> {
    ctx.env
        .iter()
        .filter(|(k, _)| {
            k.starts_with("FINSANDBOX_") || k.starts_with("DOCKER_") || *k == "XDG_CONFIG_HOME" || *k == "HOME"
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The settings from a manifest's recorded inputs (the same resolution as
/// every other command, with the submitter's environment and directory).
fn resolve_recorded(c: &ConfigRef) -> Result<(Settings, Observe)> {
    let file = crate::config::load_file(c.file.as_deref(), &c.env, &c.cwd)?;
    let file = file.as_ref().map(|(p, f)| (p.as_path(), f));
    let flags = c.flags.overrides();
    let s = crate::config::resolve(file, &c.env, &flags, &c.cwd)?;
    let o = crate::config::resolve_observe(file, &c.env, &flags, &c.cwd)?;
    Ok((s, o))
}

fn data_sha256(path: &Path) -> Result<String> {
    let info = run::inspect_data(path)?;
    crate::stage::content_sha256(&info.path)
        .map_err(|e| InputError::Data { path: info.path.clone(), message: format!("cannot read: {e}") }.into())
}

/// Render the script for these shards, `sbatch` it, record the job.
fn send(
    ctx: &Context,
    slurm: &Slurm,
    rd: &RunDir,
    m: &Manifest,
    s: &Settings,
    shards: Vec<usize>,
    a: &SubmitArgs,
) -> Result<Submitted> {
    let exe = std::env::current_exe().map_err(|e| internal("locating this binary", e))?;
    let spec = slurm::JobSpec {
        run_id: m.run_id.clone(),
        run_dir: rd.root.clone(),
        exe,
        engine: ctx.cli.engine.clone().or_else(|| m.engine.clone()),
        path_env: ctx.env.get("PATH").cloned().unwrap_or_else(|| DEFAULT_PATH.into()),
        shards: shards.clone(),
        parallel: a.array_parallel.map(|p| p as usize),
        mem_mib: slurm::mem_mib(s.memory_bytes, m.jobs),
        cpus: slurm::cpus_per_task(s.cpus, m.jobs),
    };
    let script = rd.root.join(rundir::SCRIPT);
    std::fs::write(&script, slurm::render_script(&spec)).map_err(|e| internal("writing the batch script", e))?;
    let job_id = slurm.submit(&script, &a.sbatch_args)?;
    let array = slurm::array_spec(&shards, spec.parallel);
    let sub = Submission { job_id: job_id.clone(), shards: shards.clone(), array: array.clone(), at: host::now_unix() };
    rd.record_submission(&sub).map_err(|e| internal("recording the submission", e))?;
    let strategies = shards.iter().filter_map(|k| m.shards().get(*k).map(|r| r.len())).sum();
    Ok(Submitted {
        run_dir: rd.root.clone(),
        run_id: m.run_id.clone(),
        job_id: Some(job_id),
        array,
        shards,
        strategies,
    })
}

/// `--resume`: the shards that are neither done nor queued, again (their
/// workers run only the strategies without a line).
fn resubmit(ctx: &Context, slurm: &Slurm, dir: &Path, a: &SubmitArgs) -> Result<Submitted> {
    let (rd, m) = RunDir::open(dir)?;
    let settings = checked_settings(&m)?.0;
    let failed: Vec<usize> = shard_statuses(slurm, &rd, &m)?
        .into_iter()
        .filter(|s| s.state == ShardState::Failed)
        .map(|s| s.shard)
        .collect();
    if failed.is_empty() {
        return Ok(Submitted {
            run_dir: rd.root.clone(),
            run_id: m.run_id.clone(),
            job_id: None,
            array: String::new(),
            shards: failed,
            strategies: 0,
        });
    }
    send(ctx, slurm, &rd, &m, &settings, failed, a)
}

/// The recorded settings, refused unless they hash as submitted.
fn checked_settings(m: &Manifest) -> Result<(Settings, Observe)> {
    let (s, o) = resolve_recorded(&m.config)?;
    let found = run::result::config_sha256(&s);
    if found != m.config.sha256 {
        let path =
            m.config.file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "(found by default)".into());
        return Err(
            ScaleError::Changed { what: "effective config", path, expected: m.config.sha256.clone(), found }.into()
        );
    }
    Ok((s, o))
}

// ---- status ----
