//! `batch worker`: one array task, the ordinary batch over one shard, after checking that everything still hashes as submitted.

use super::*;

pub(super) fn worker(ctx: &Context, dir: &Path, shard: usize) -> Result<i32> {
    let signal = crate::commands::install_signal_handlers()?;
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
pub(super) fn event(rd: &RunDir, shard: usize, what: &str, exit_code: Option<i32>) {
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
        let _ = crate::jsonl::append_to(&rd.events(shard), &json);
    }
}

pub(super) fn work(
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
            skip_screening: flags.skip_screening,
            start: flags.start.clone(),
            end: flags.end.clone(),
            batch_run: Some(m.run_id.clone()),
            ..run::Request::new(Path::new(""), &m.data.path, &settings, &engine, signal)
        },
        jobs: m.jobs.max(1),
        fail_fast: false,
        resume: None,
    };
    let mut on_line = |line: &Line, _: &Summary| {
        let path = submitted_as.get(Path::new(line.path())).cloned().unwrap_or_else(|| line.path().to_string());
        let line = line.with_path(&path);
        for w in reporter.record(&recorded(&line)) {
            ctx.printer.warn(&w);
        }
        // Stops the shard: a result that cannot be written is not run for nothing.
        append(&results, &line)
    };
    let summary = batch::run_batch(&b, &mut on_line)?;
    if !ctx.printer.quiet {
        eprintln!("shard {shard}: {}", batch::describe(&summary));
    }
    Ok(code::OK)
}

/// The copy to run, checked against the hash taken at submit time; an entry
/// without a copy (unreadable then) is its error, never a run of the file
/// as it is now.
pub(super) fn runnable(rd: &RunDir, e: &Entry) -> Result<PathBuf, Error> {
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

pub(super) fn recorded(line: &Line) -> Recorded<'_> {
    match line {
        Line::Result(r) => Recorded::Result(r),
        Line::Error(e) => {
            Recorded::ErrorLine { strategy: &e.strategy.path, message: &e.error.message, exit_code: e.exit_code }
        }
    }
}

pub(super) fn append(path: &Path, line: &Line) -> Result<()> {
    crate::jsonl::append_to(path, &line.to_json()).map_err(|e| internal(&format!("writing `{}`", path.display()), e))
}

pub(super) fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{what}: {e}"))
}
