//! `batch cancel`: `scancel`, then the run's containers removed (here, and by a cleanup job on every other node that ran a shard).

use super::*;

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

pub(super) fn cancel(ctx: &Context, dir: &Path) -> Result<Cancelled> {
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
pub(super) fn reap_elsewhere(ctx: &Context, slurm: &Slurm, m: &Manifest, hosts: &[String]) -> Vec<String> {
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
pub(super) fn wait_out_of_queue(slurm: &Slurm, jobs: &[String]) -> Result<bool> {
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
pub(super) fn reap(engine: &engine::Engine, run_id: &str) -> Result<(Vec<String>, Vec<String>)> {
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
