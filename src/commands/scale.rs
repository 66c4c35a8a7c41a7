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
    let all = batch::expand(inputs, &mut std::io::stdin().lock())?;
    let mut seen = BTreeSet::new();
    let unique: Vec<PathBuf> = all.into_iter().filter(|p| seen.insert(p.clone())).collect();
    if unique.is_empty() {
        return Err(InputError::Data {
            path: inputs.first().cloned().unwrap_or_default(),
            message: "no strategies: give files, directories of `*.py`, or `-` with paths on stdin".into(),
        }
        .into());
    }
    Ok(unique)
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

#[derive(Debug, Serialize)]
pub struct Status {
    pub run_dir: PathBuf,
    pub run_id: String,
    pub strategies: usize,
    pub done: usize,
    pub jobs: Vec<String>,
    pub shards: Vec<ShardStatus>,
}

#[derive(Debug, Serialize)]
pub struct ShardStatus {
    pub shard: usize,
    pub state: ShardState,
    pub strategies: usize,
    pub done: usize,
    pub reason: String,
    /// Where its worker last ran.
    pub host: Option<String>,
}

impl Render for Status {
    fn render_text(&self, _color: bool) -> String {
        let mut s = format!(
            "run {} ({}): {} of {} strategies done; jobs {}\n",
            self.run_id,
            self.run_dir.display(),
            self.done,
            self.strategies,
            if self.jobs.is_empty() { "none".to_string() } else { self.jobs.join(", ") }
        );
        for x in &self.shards {
            s.push_str(&format!(
                "  shard {:>4}  {:<8} {:>4}/{:<4} {}{}\n",
                x.shard,
                x.state.as_str(),
                x.done,
                x.strategies,
                x.reason,
                x.host.as_ref().map(|h| format!(" (on {h})")).unwrap_or_default()
            ));
        }
        s
    }
}

impl CommandOutput for Status {
    fn exit_code(&self) -> i32 {
        code::OK
    }
}

fn status(ctx: &Context, dir: &Path) -> Result<Status> {
    let (rd, m) = RunDir::open(dir)?;
    let slurm = Slurm::locate(ctx.env.get("PATH").map(String::as_str))?;
    let shards = shard_statuses(&slurm, &rd, &m)?;
    let jobs = job_ids(&rd)?;
    let done = shards.iter().map(|s| s.done).sum();
    Ok(Status {
        run_dir: rd.root.clone(),
        run_id: m.run_id.clone(),
        strategies: m.strategies.len(),
        done,
        jobs,
        shards,
    })
}

fn job_ids(rd: &RunDir) -> Result<Vec<String>> {
    let subs = rd.submissions().map_err(|e| internal("reading the submissions", e))?;
    Ok(subs.into_iter().map(|s| s.job_id).collect())
}

/// Every shard's state: the queue first, then the files (a task that ends
/// in between is then seen done or failed, never lost).
fn shard_statuses(slurm: &Slurm, rd: &RunDir, m: &Manifest) -> Result<Vec<ShardStatus>> {
    let subs = rd.submissions().map_err(|e| internal("reading the submissions", e))?;
    let ids: Vec<String> = subs.iter().map(|s| s.job_id.clone()).collect();
    let queue = slurm.queue(&ids)?;
    let mut out = Vec::new();
    for (k, range) in m.shards().into_iter().enumerate() {
        let results = rd.read_results(k).map_err(|e| internal("reading the shard results", e))?;
        let events = rd.read_events(k).map_err(|e| internal("reading the shard events", e))?;
        let facts = ShardFacts {
            total: range.len(),
            done: m.strategies[range.clone()].iter().filter(|e| results.contains_key(&e.path)).count(),
            queued: queue.iter().filter(|q| q.task == k).map(|q| q.state).max(),
            last: events.last().map(|e| if e.event == "end" { e.exit_code.or(Some(-1)) } else { None }),
            submitted: subs.iter().any(|s| s.shards.contains(&k)),
        };
        let (state, reason) = decide(&facts);
        let host = events.last().map(|e| e.host.clone());
        out.push(ShardStatus { shard: k, state, strategies: facts.total, done: facts.done, reason, host });
    }
    Ok(out)
}

// ---- collect ----

fn collect(ctx: &Context, dir: &Path, out: Option<&Path>) -> Result<i32> {
    let (rd, m) = RunDir::open(dir)?;
    let mut found = BTreeMap::new();
    for k in 0..m.shards().len() {
        found.extend(rd.read_results(k).map_err(|e| internal("reading the shard results", e))?);
    }
    let (lines, missing) = rundir::merge(&m.strategies, &found);
    let mut text = String::new();
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    match out {
        Some(p) => write_atomically(p, &text).map_err(|e| internal(&format!("writing `{}`", p.display()), e))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .map_err(|e| internal("writing stdout", e))?;
        }
    }
    ctx.printer.note(&format!("collected {} of {} strategies", lines.len(), m.strategies.len()));
    if missing.is_empty() {
        return Ok(code::OK);
    }
    let names: Vec<&str> = missing.iter().take(10).map(|i| m.strategies[*i].path.as_str()).collect();
    let more =
        if missing.len() > names.len() { format!(" and {} more", missing.len() - names.len()) } else { String::new() };
    let e = ScaleError::Incomplete { missing: missing.len(), total: m.strategies.len(), run_dir: rd.root.clone() };
    let e = Error::from(e);
    ctx.printer.warn(&format!("{e}: {}{more}", names.join(", ")));
    if let Some(h) = e.hint() {
        ctx.printer.note(&format!("hint: {h}"));
    }
    Ok(e.exit_code())
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

// ---- cancel ----

#[derive(Debug, Serialize)]
pub struct Cancelled {
    pub run_dir: PathBuf,
    pub jobs: Vec<String>,
    /// The jobs had left the queue when the containers were reaped.
    pub jobs_gone: bool,
    pub removed: Vec<String>,
    pub failed: Vec<String>,
    /// Nodes other than this one that ran a shard.
    pub other_hosts: Vec<String>,
    /// The `finsandbox cleanup` job submitted to each of them (or why not).
    pub reapers: Vec<String>,
}

impl Render for Cancelled {
    fn render_text(&self, _color: bool) -> String {
        let mut s =
            format!("cancelled job(s) {}\n", if self.jobs.is_empty() { "none".into() } else { self.jobs.join(", ") });
        if !self.jobs_gone {
            s.push_str("  the jobs were still in the queue after 120s: run `cancel` again\n");
        }
        s.push_str(&format!("  removed {} container(s) of the run on this host\n", self.removed.len()));
        for f in &self.failed {
            s.push_str(&format!("  FAILED to remove {f}\n"));
        }
        if !self.other_hosts.is_empty() {
            s.push_str(&format!(
                "  shards also ran on {}: a `finsandbox cleanup` job on each removes what their workers left: {}\n",
                self.other_hosts.join(", "),
                self.reapers.join("; ")
            ));
        }
        s
    }
}

impl CommandOutput for Cancelled {
    fn exit_code(&self) -> i32 {
        if self.failed.is_empty() && self.jobs_gone {
            code::OK
        } else {
            code::ENGINE
        }
    }
}

fn cancel(ctx: &Context, dir: &Path) -> Result<Cancelled> {
    let (rd, m) = RunDir::open(dir)?;
    let slurm = Slurm::locate(ctx.env.get("PATH").map(String::as_str))?;
    let jobs = job_ids(&rd)?;
    slurm.cancel(&jobs)?;
    let jobs_gone = wait_out_of_queue(&slurm, &jobs)?;
    let engine = engine::locate(ctx.cli.engine.as_deref().or(m.engine.as_deref()), ctx.env)?;
    let (removed, failed) = reap(&engine, &m.run_id)?;
    let here = crate::audit::hostname();
    let mut other_hosts = BTreeSet::new();
    for k in 0..m.shards().len() {
        for e in rd.read_events(k).map_err(|e| internal("reading the shard events", e))? {
            if e.host != here {
                other_hosts.insert(e.host);
            }
        }
    }
    let other_hosts: Vec<String> = other_hosts.into_iter().collect();
    let reapers = reap_elsewhere(ctx, &slurm, &m, &other_hosts);
    Ok(Cancelled { run_dir: rd.root.clone(), jobs, jobs_gone, removed, failed, other_hosts, reapers })
}

/// A `finsandbox cleanup` job on each other node that ran a shard.
fn reap_elsewhere(ctx: &Context, slurm: &Slurm, m: &Manifest, hosts: &[String]) -> Vec<String> {
    let Ok(exe) = std::env::current_exe() else { return vec!["cannot locate this binary".into()] };
    let path_env = ctx.env.get("PATH").cloned().unwrap_or_else(|| DEFAULT_PATH.into());
    let engine = ctx.cli.engine.as_deref().or(m.engine.as_deref());
    hosts
        .iter()
        .map(|h| match slurm.submit_args(&slurm::reaper_args(h, &exe, engine, &path_env)) {
            Ok(job) => format!("{h}: job {job}"),
            Err(e) => format!("{h}: {e}"),
        })
        .collect()
}

/// Poll until none of the jobs has a task in the queue.
fn wait_out_of_queue(slurm: &Slurm, jobs: &[String]) -> Result<bool> {
    let start = Instant::now();
    loop {
        if slurm.queue(jobs)?.is_empty() {
            return Ok(true);
        }
        if start.elapsed() > CANCEL_WAIT {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Remove every container labelled with the run, until none is left.
fn reap(engine: &engine::Engine, run_id: &str) -> Result<(Vec<String>, Vec<String>)> {
    let (mut removed, mut failed) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let ours: Vec<_> = engine::list_labelled(engine, label::MANAGED)?
            .into_iter()
            .filter(|c| c.labels.get(label::BATCH_RUN).map(String::as_str) == Some(run_id))
            .collect();
        if ours.is_empty() {
            return Ok((removed, failed));
        }
        failed.clear();
        for c in ours {
            match engine::remove(engine, &c.id) {
                Ok(()) => {
                    crate::stage::remove_stage(c.labels.get(label::RUN_ID).map(String::as_str).unwrap_or(""));
                    removed.push(c.name);
                }
                Err(e) => failed.push(format!("{}: {e}", c.name)),
            }
        }
    }
    Ok((removed, failed))
}

// ---- worker ----

fn worker(ctx: &Context, dir: &Path, shard: usize) -> Result<i32> {
    let signal = super::install_signal_handlers()?;
    let (rd, m) = RunDir::open(dir)?;
    let shards = m.shards();
    let range = shards.get(shard).cloned().ok_or(ScaleError::NoShard { shard, shards: shards.len() })?;
    event(&rd, shard, "start", None);
    let r = work(ctx, &rd, &m, shard, &m.strategies[range], signal);
    let code = match &r {
        Ok(c) => *c,
        Err(e) => e.exit_code(),
    };
    event(&rd, shard, "end", Some(code));
    r
}

/// A start or end record; best effort (the results are what count).
fn event(rd: &RunDir, shard: usize, what: &str, exit_code: Option<i32>) {
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let e = Event {
        event: what.into(),
        at: (at * 1000.0).round() / 1000.0,
        host: crate::audit::hostname(),
        job: std::env::var("SLURM_JOB_ID").ok(),
        pid: std::process::id(),
        exit_code,
    };
    if let Ok(json) = serde_json::to_string(&e) {
        let _ = rundir::append_line(&rd.events(shard), &json);
    }
}

fn work(
    ctx: &Context,
    rd: &RunDir,
    m: &Manifest,
    shard: usize,
    entries: &[Entry],
    signal: Arc<AtomicUsize>,
) -> Result<i32> {
    let (settings, observe) = checked_settings(m)?;
    let found = data_sha256(&m.data.path)?;
    if found != m.data.sha256 {
        let path = m.data.path.display().to_string();
        return Err(ScaleError::Changed { what: "data", path, expected: m.data.sha256.clone(), found }.into());
    }
    let results = rd.results(shard);
    let done = rd.read_results(shard).map_err(|e| internal("reading the shard results", e))?;
    let mut todo = Vec::new();
    let mut submitted_as: BTreeMap<PathBuf, String> = BTreeMap::new();
    for e in entries.iter().filter(|e| !done.contains_key(&e.path)) {
        match runnable(rd, e) {
            Ok(path) => {
                submitted_as.insert(path.clone(), e.path.clone());
                todo.push(path);
            }
            Err(err) => append(&results, &Line::error(Path::new(&e.path), &err))?,
        }
    }
    if todo.is_empty() {
        return Ok(code::OK);
    }
    let engine = engine::locate(ctx.cli.engine.as_deref().or(m.engine.as_deref()), ctx.env)?;
    let mut reporter = Reporter::open(&observe, None)?;
    let flags = &m.config.flags;
    let b = Batch {
        strategies: todo,
        request: run::Request {
            strategy: Path::new(""),
            data: &m.data.path,
            settings: &settings,
            engine: &engine,
            signal,
            skip_screening: flags.skip_screening,
            equity_out: None,
            start: flags.start.clone(),
            end: flags.end.clone(),
            runtime_policy: true,
            batch_run: Some(m.run_id.clone()),
        },
        jobs: m.jobs.max(1),
        fail_fast: false,
        resume: None,
    };
    let mut write_error: Option<Error> = None;
    let mut on_line = |line: &Line, _: &Summary| {
        let path = submitted_as.get(Path::new(line.path())).cloned().unwrap_or_else(|| line.path().to_string());
        let line = line.with_path(&path);
        for w in reporter.record(&recorded(&line)) {
            ctx.printer.warn(&w);
        }
        if let Err(e) = append(&results, &line) {
            write_error.get_or_insert(e);
        }
    };
    let summary = batch::run_batch(&b, &mut on_line);
    if let Some(e) = write_error {
        return Err(e);
    }
    let summary = summary?;
    if !ctx.printer.quiet {
        eprintln!("shard {shard}: {}", batch::describe(&summary));
    }
    Ok(code::OK)
}

/// The copy to run, checked against the hash taken at submit time; an entry
/// without a copy (unreadable then) is its error, never a run of the file
/// as it is now.
fn runnable(rd: &RunDir, e: &Entry) -> Result<PathBuf, Error> {
    let (Some(copy), Some(sha)) = (&e.copy, &e.sha256) else {
        let why = e.unreadable.clone().unwrap_or_else(|| "no copy in the run directory".into());
        let source = std::io::Error::other(format!("unreadable when the batch was submitted: {why}"));
        return Err(InputError::Strategy { path: PathBuf::from(&e.path), source }.into());
    };
    let abs = rd.root.join(copy);
    let bytes = crate::fsread::read_regular(&abs, run::MAX_STRATEGY_BYTES)
        .map_err(|source| InputError::Strategy { path: abs.clone(), source })?;
    let found = host::hex_sha256(&bytes);
    if &found != sha {
        return Err(ScaleError::Changed { what: "strategy", path: e.path.clone(), expected: sha.clone(), found }.into());
    }
    Ok(abs)
}

fn recorded(line: &Line) -> Recorded<'_> {
    match line {
        Line::Result(r) => Recorded::Result(r),
        Line::Error(e) => {
            Recorded::ErrorLine { strategy: &e.strategy.path, message: &e.error.message, exit_code: e.exit_code }
        }
    }
}

fn append(path: &Path, line: &Line) -> Result<()> {
    rundir::append_line(path, &line.to_json()).map_err(|e| internal(&format!("writing `{}`", path.display()), e))
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{what}: {e}"))
}

// ---- doctor --backend slurm ----

/// How long the canary job may take, queueing included.
const DOCTOR_WAIT: Duration = Duration::from_secs(900);

#[derive(Debug, Serialize)]
pub struct SlurmDoctor {
    pub backend: &'static str,
    pub job_id: String,
    pub healthy: bool,
    /// The node's own `doctor --json` report.
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
}

impl Render for SlurmDoctor {
    fn render_text(&self, _color: bool) -> String {
        let verdict =
            if self.healthy { "healthy" } else { "UNHEALTHY: do not run untrusted strategies on this cluster" };
        let mut s = format!("slurm job {}: {verdict}\n", self.job_id);
        let runtimes = self.report.as_ref().and_then(|r| r["runtimes"].as_array().cloned()).unwrap_or_default();
        for t in runtimes {
            let ok = if t["healthy"] == true { "healthy" } else { "UNHEALTHY" };
            s.push_str(&format!(
                "  runtime {}: {ok}\n",
                crate::printer::terminal_safe(t["runtime"].as_str().unwrap_or("?"))
            ));
            for c in t["checks"].as_array().into_iter().flatten().filter(|c| c["escaped"] == true) {
                s.push_str(&format!(
                    "    ESCAPED {}\n",
                    crate::printer::terminal_safe(c["name"].as_str().unwrap_or("?"))
                ));
            }
        }
        if let Some(e) = &self.error {
            s.push_str(&format!("  error: {}\n", crate::printer::terminal_safe(e)));
        }
        s
    }
}

impl CommandOutput for SlurmDoctor {
    fn exit_code(&self) -> i32 {
        if self.healthy {
            code::OK
        } else {
            code::ENGINE
        }
    }
}

/// `doctor --backend slurm`: the escape self-test (every check `doctor`
/// makes) as a Slurm job, judged here from the node's JSON report. The job's
/// output goes to a private directory under the working directory, which
/// the nodes must share.
pub fn doctor(ctx: &Context, args: &crate::cli::DoctorArgs) -> Result<SlurmDoctor> {
    let slurm = Slurm::locate(ctx.env.get("PATH").map(String::as_str))?;
    let cwd = super::current_dir()?;
    let file = crate::config::load_file(args.config.as_deref(), ctx.env, &cwd)?;
    let file = file.as_ref().map(|(p, f)| (p.as_path(), f));
    let settings = crate::config::resolve(file, ctx.env, &crate::config::Overrides::default(), &cwd)?;
    let dir = tempfile::Builder::new()
        .prefix(".finsandbox-doctor-")
        .tempdir_in(&cwd)
        .map_err(|e| internal("creating the canary job's directory", e))?;
    let out = dir.path().join("report.json");
    let err = dir.path().join("stderr.txt");
    let mut doctor_args = Vec::new();
    if let Some(c) = &args.config {
        doctor_args.extend(["--config".to_string(), cwd.join(c).display().to_string()]);
    }
    for r in &args.runtime {
        doctor_args.extend(["--runtime".to_string(), r.clone()]);
    }
    let exe = std::env::current_exe().map_err(|e| internal("locating this binary", e))?;
    let path_env = ctx.env.get("PATH").cloned().unwrap_or_else(|| DEFAULT_PATH.into());
    let wrap = slurm::doctor_wrap(&exe, ctx.cli.engine.as_deref(), &path_env, &doctor_args);
    let mut sbatch = vec![
        "--job-name=finsandbox-doctor".to_string(),
        "--ntasks=1".to_string(),
        format!("--cpus-per-task={}", slurm::cpus_per_task(settings.cpus, 1)),
        format!("--mem={}M", slurm::mem_mib(settings.memory_bytes, 1)),
        format!("--chdir={}", cwd.display()),
        format!("--output={}", out.display()),
        format!("--error={}", err.display()),
    ];
    sbatch.extend(args.sbatch_args.iter().cloned());
    sbatch.push(format!("--wrap={wrap}"));
    ctx.printer.note("submitting the self-test as a Slurm job and waiting for it");
    let job_id = slurm.submit_and_wait(&sbatch, DOCTOR_WAIT)?;
    let report =
        std::fs::read_to_string(&out).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(t.trim()).ok());
    let stderr_tail = || {
        let t = std::fs::read_to_string(&err).unwrap_or_default();
        t.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ")
    };
    let (healthy, error) = match &report {
        Some(r) if r["healthy"] == true => (true, None),
        Some(r) => (false, r["error"]["message"].as_str().map(str::to_string).or_else(|| Some(stderr_tail()))),
        None => (false, Some(format!("the job printed no report: {}", stderr_tail()))),
    };
    Ok(SlurmDoctor { backend: "slurm", job_id, healthy, report, error })
}
