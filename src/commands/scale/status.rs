//! `batch status` and `batch collect`: what the shards did, and their lines merged in input order.

use super::*;

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

pub(super) fn status(ctx: &Context, dir: &Path) -> Result<Status> {
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

pub(super) fn job_ids(rd: &RunDir) -> Result<Vec<String>> {
    let subs = rd.submissions().map_err(|e| internal("reading the submissions", e))?;
    Ok(subs.into_iter().map(|s| s.job_id).collect())
}

/// Every shard's state: the queue first, then the files (a task that ends
/// in between is then seen done or failed, never lost).
pub(super) fn shard_statuses(slurm: &Slurm, rd: &RunDir, m: &Manifest) -> Result<Vec<ShardStatus>> {
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

pub(super) fn collect(ctx: &Context, dir: &Path, out: Option<&Path>) -> Result<i32> {
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

pub(super) fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

// ---- cancel ----
