//! Many strategies against one data set: `finsandbox batch`. The inputs
//! are expanded and read up front; the data is inspected and the engine
//! checked once; then `jobs` slots each take the next strategy and run it
//! through the same pipeline as `exec` (screening first: a rejected
//! strategy never costs a container). `jobs` strategies run at once, and
//! each has a warm successor: a container started, through its trusted
//! phase and held at READY (a [`run::Gate`]) until a running strategy's
//! result is known, so the next strategy starts the moment one ends, in
//! whichever slot frees first. A container never runs a second strategy; a
//! warm one left over when the batch stops is removed unused. One line per strategy reaches the
//! caller as soon as it is known, and is not kept: the CLI's memory stays
//! bounded however long the batch (the summary keeps counts and the top
//! few by Sharpe).
//!
//! Resume: a strategy is done when the output already holds a line with
//! the same (strategy, data, effective config) hashes.

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, InputError};
use crate::report::{RunResult, Status};
use crate::run;

/// How many of the best strategies the summary names.
const TOP: usize = 5;

/// Strategy files from the command line: files as given, directories as
/// their `*.py` files (sorted, not recursive), `-` as a list of paths on
/// `stdin`, one per line (blank lines and `#` comments skipped).
pub fn expand(inputs: &[PathBuf], stdin: &mut dyn BufRead) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            // Bytes, not text: a file name need not be UTF-8 (`ls | batch -`).
            for line in stdin.split(b'\n') {
                let line = line.map_err(|source| InputError::Strategy { path: input.clone(), source })?;
                let t = line.trim_ascii();
                if !t.is_empty() && !t.starts_with(b"#") {
                    out.push(PathBuf::from(std::ffi::OsStr::from_bytes(t)));
                }
            }
        } else if input.is_dir() {
            let mut found = Vec::new();
            let entries =
                std::fs::read_dir(input).map_err(|source| InputError::Strategy { path: input.clone(), source })?;
            for entry in entries {
                let path = entry.map_err(|source| InputError::Strategy { path: input.clone(), source })?.path();
                if path.extension().is_some_and(|e| e == "py") && path.is_file() {
                    found.push(path);
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

/// [`expand`], refusing an expansion that names no strategy at all (an
/// empty directory, an empty list on stdin).
pub fn expand_some(inputs: &[PathBuf], stdin: &mut dyn BufRead) -> Result<Vec<PathBuf>, InputError> {
    let found = expand(inputs, stdin)?;
    if found.is_empty() {
        let named: Vec<String> = inputs
            .iter()
            .map(|p| if p.as_os_str() == "-" { "the list on stdin".to_string() } else { format!("`{}`", p.display()) })
            .collect();
        let inputs = if named.is_empty() { "the command line".to_string() } else { named.join(", ") };
        return Err(InputError::NoStrategies { inputs });
    }
    Ok(found)
}

/// The (strategy, data, config) hashes of the lines an output file holds.
#[derive(Debug, Default)]
pub struct ResumeIndex(HashSet<(String, String, String)>);

impl ResumeIndex {
    /// Read an earlier output; a missing file is an empty index, and lines
    /// that do not parse (a line cut by a crash, possibly inside a UTF-8
    /// sequence, or bytes that are not text at all) are ignored.
    pub fn load(path: &Path) -> std::io::Result<ResumeIndex> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ResumeIndex::default()),
            Err(e) => return Err(e),
        };
        let mut set = HashSet::new();
        for line in std::io::BufReader::new(file).split(b'\n') {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line?) else { continue };
            let p = &v["provenance"];
            if let (Some(s), Some(d), Some(c)) =
                (p["strategy_sha256"].as_str(), p["data_sha256"].as_str(), p["config_sha256"].as_str())
            {
                set.insert((s.to_string(), d.to_string(), c.to_string()));
            }
        }
        Ok(ResumeIndex(set))
    }

    pub fn contains(&self, strategy: &str, data: &str, config: &str) -> bool {
        self.0.contains(&(strategy.to_string(), data.to_string(), config.to_string()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A strategy that could not even be read: the line says so, in the shape
/// of `exec --json`'s error document, with the path.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorLine {
    pub schema_version: u32,
    pub status: &'static str,
    pub success: bool,
    pub error: ErrorBody,
    pub exit_code: i32,
    pub strategy: PathOnly,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub kind: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathOnly {
    pub path: String,
}

/// One strategy's outcome.
#[derive(Debug, Clone)]
pub enum Line {
    Result(Box<RunResult>),
    Error(ErrorLine),
}

impl Line {
    pub fn error(path: &Path, e: &Error) -> Line {
        Line::Error(ErrorLine {
            schema_version: crate::printer::SCHEMA_VERSION,
            status: "error",
            success: false,
            error: ErrorBody { kind: e.kind(), message: e.to_string(), hint: e.hint() },
            exit_code: e.exit_code(),
            strategy: PathOnly { path: path.display().to_string() },
        })
    }

    /// The same line naming another path: a scheduled batch's worker runs
    /// a copy and reports the strategy by the path it was submitted as.
    pub fn with_path(&self, path: &str) -> Line {
        let mut line = self.clone();
        match &mut line {
            Line::Result(r) => r.strategy.path = path.to_string(),
            Line::Error(e) => e.strategy.path = path.to_string(),
        }
        line
    }

    pub fn to_json(&self) -> String {
        // Plain data: serialisation cannot fail.
        match self {
            Line::Result(r) => serde_json::to_string(r).unwrap_or_default(),
            Line::Error(e) => serde_json::to_string(e).unwrap_or_default(),
        }
    }

    pub fn status(&self) -> &'static str {
        match self {
            Line::Result(r) => r.status.as_str(),
            Line::Error(_) => "error",
        }
    }

    pub fn path(&self) -> &str {
        match self {
            Line::Result(r) => &r.strategy.path,
            Line::Error(e) => &e.strategy.path,
        }
    }
}

/// What the batch did, for the closing summary.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub total: usize,
    pub skipped_resumed: usize,
    pub by_status: BTreeMap<&'static str, usize>,
    /// `(sharpe, path)`, best first.
    pub top: Vec<(f64, String)>,
    pub wall_s: f64,
    pub per_minute: f64,
}

impl Summary {
    fn new(total: usize, skipped: usize) -> Summary {
        Summary {
            total,
            skipped_resumed: skipped,
            by_status: BTreeMap::new(),
            top: Vec::new(),
            wall_s: 0.0,
            per_minute: 0.0,
        }
    }

    fn add(&mut self, line: &Line) {
        *self.by_status.entry(line.status()).or_insert(0) += 1;
        if let Line::Result(r) = line {
            if let Some(sharpe) = r.metrics.as_ref().and_then(|m| m.sharpe_ratio).filter(|x| x.is_finite()) {
                self.top.push((sharpe, r.strategy.path.clone()));
                self.top.sort_by(|a, b| b.0.total_cmp(&a.0));
                self.top.truncate(TOP);
            }
        }
    }

    pub fn done(&self) -> usize {
        self.by_status.values().sum()
    }

    pub fn ok(&self) -> usize {
        self.by_status.get("ok").copied().unwrap_or(0)
    }
}

/// A batch, ready to run.
pub struct Batch<'a> {
    pub strategies: Vec<PathBuf>,
    pub request: run::Request<'a>,
    pub jobs: usize,
    pub fail_fast: bool,
    pub resume: Option<&'a ResumeIndex>,
}

/// What receives each line: an error (the results cannot be written) stops
/// the batch like an engine failure, so no strategy runs whose result would
/// be lost.
pub type OnLine<'a> = dyn FnMut(&Line, &Summary) -> Result<(), Error> + 'a;

/// Run the batch; `on_line` sees each line as it is known (on this thread).
/// An interrupt stops every slot (each run removes its container) and
/// returns [`Error::Interrupted`] once all slots have stopped.
pub fn run_batch(b: &Batch, on_line: &mut OnLine) -> Result<Summary, Error> {
    let started = Instant::now();
    let req = &b.request;
    let data = run::inspect_data(req.data)?;
    let data_sha = crate::stage::content_sha256(&data.path)
        .map_err(|e| InputError::Data { path: data.path.clone(), message: format!("cannot read: {e}") })?;
    let config_sha = run::result::config_sha256(req.settings);

    // Read, hash and screen everything first, one file at a time:
    // unreadable, resumed and rejected strategies never wait for a slot, and
    // no source is kept (the slots read each again, and screen it again, so
    // what runs is exactly what was screened even if the file changed).
    let mut summary = Summary::new(b.strategies.len(), 0);
    let mut todo: Vec<PathBuf> = Vec::new();
    for path in &b.strategies {
        let line = match screen_one(req, path, &data_sha, &config_sha, b.resume) {
            Screened::Clean => {
                todo.push(path.clone());
                continue;
            }
            Screened::Resumed => {
                summary.skipped_resumed += 1;
                continue;
            }
            Screened::Done(line) => line,
        };
        summary.add(&line);
        on_line(&line, &summary)?;
    }
    if todo.is_empty() {
        return Ok(finish(summary, started));
    }
    let pre = run::preflight(req, req.settings.sweep_on_start)?;
    let ran = run_slots(b, &todo, &data, &pre, &mut summary, on_line);
    // A signal comes first: what failed after it (an engine call the same
    // signal ended, under Slurm's `scancel`) is its consequence.
    if req.signal.load(Ordering::SeqCst) != 0 {
        return Err(run::interrupted_by(req.signal.load(Ordering::SeqCst)));
    }
    ran?;
    Ok(finish(summary, started))
}

/// `jobs` slots over `todo`; lines reach `on_line` on this thread. An
/// interrupt or an engine failure stops every slot; each run removes its
/// own container on the way out.
fn run_slots(
    b: &Batch,
    todo: &[PathBuf],
    data: &crate::data::DataInfo,
    pre: &run::Preflight,
    summary: &mut Summary,
    on_line: &mut OnLine,
) -> Result<(), Error> {
    let req = &b.request;

    let next = AtomicUsize::new(0);
    let stop = Arc::new(AtomicBool::new(false));
    let jobs = b.jobs.max(1);
    let permits = Arc::new(run::Permits::new(jobs));
    let (tx, rx) = mpsc::channel::<Result<Line, Error>>();
    let mut fatal: Option<Error> = None;
    // A warm container may wait at READY for as long as a running strategy's
    // run can take: its warm-up, its strategy, and its scoring.
    let hold = Duration::from_secs(crate::engine::STARTUP_LIMIT_SECONDS + req.settings.timeout_seconds + 60);
    std::thread::scope(|scope| {
        // Twice as many containers as strategies running: each running one
        // has a warm successor, which takes the first permit that frees.
        for _ in 0..(2 * jobs).min(todo.len()) {
            let tx = tx.clone();
            let (next, stop, permits) = (&next, &stop, &permits);
            scope.spawn(move || loop {
                if stop.load(Ordering::SeqCst) || req.signal.load(Ordering::SeqCst) != 0 {
                    return;
                }
                let ticket = next.fetch_add(1, Ordering::SeqCst);
                let Some(path) = todo.get(ticket) else { return };
                permits.queue(ticket);
                let taken = Arc::new(AtomicBool::new(false));
                let gate = run::Gate {
                    permits: Arc::clone(permits),
                    ticket,
                    halt: Arc::clone(stop),
                    taken: Arc::clone(&taken),
                    hold,
                };
                let line = slot_line(path, run_one(req, path, data, pre, Some(gate)));
                // A run that ended before taking its turn leaves the queue.
                permits.leave(ticket);
                let taken = taken.load(Ordering::SeqCst);
                if !taken && stop.load(Ordering::SeqCst) {
                    // Released unused when the batch stopped: not a result.
                    return;
                }
                // Decided here, before the permit goes back, so no warm
                // container starts its strategy after a failure.
                if b.fail_fast && !line.as_ref().is_ok_and(|l| l.status() == "ok") {
                    stop.store(true, Ordering::SeqCst);
                }
                if taken {
                    permits.give_back();
                }
                if tx.send(line).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        for line in rx {
            match line {
                Ok(line) => {
                    summary.add(&line);
                    if let Err(e) = on_line(&line, summary) {
                        stop.store(true, Ordering::SeqCst);
                        fatal.get_or_insert(e);
                    }
                }
                Err(e) => {
                    stop.store(true, Ordering::SeqCst);
                    fatal.get_or_insert(e);
                }
            }
        }
    });
    match fatal {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

enum Screened {
    Clean,
    Resumed,
    Done(Line),
}

fn screen_one(
    req: &run::Request,
    path: &Path,
    data_sha: &str,
    config_sha: &str,
    resume: Option<&ResumeIndex>,
) -> Screened {
    let source = match run::load_source(path) {
        Ok(s) => s,
        Err(e) => return Screened::Done(Line::error(path, &e.into())),
    };
    let sha = crate::host::hex_sha256(source.code.as_bytes());
    if resume.is_some_and(|r| r.contains(&sha, data_sha, config_sha)) {
        return Screened::Resumed;
    }
    let one = req.for_strategy(path);
    let screening = run::screen_source(&source.code, &one);
    if screening.findings.is_empty() {
        return Screened::Clean;
    }
    let mut r = run::rejected(&one, &source.code, screening);
    r.provenance.data_sha256 = Some(data_sha.to_string());
    r.warnings.extend(source.warnings);
    Screened::Done(Line::Result(Box::new(r)))
}

/// A run's outcome as a slot reports it: interrupts and engine failures
/// stop the batch; any other error is this strategy's line.
fn slot_line(path: &Path, run: Result<Line, Error>) -> Result<Line, Error> {
    match run {
        Err(e @ Error::Interrupted { .. }) => Err(e),
        Err(e @ Error::Engine(_)) => Err(e),
        Err(e) => Ok(Line::error(path, &e)),
        Ok(line) => Ok(line),
    }
}

/// One strategy in a slot: read, screen (again), run (its container held
/// warm at READY until `gate` opens).
fn run_one(
    req: &run::Request,
    path: &Path,
    data: &crate::data::DataInfo,
    pre: &run::Preflight,
    gate: Option<run::Gate>,
) -> Result<Line, Error> {
    let source = run::load_source(path)?;
    let one = req.for_strategy(path);
    let screening = run::screen_source(&source.code, &one);
    let mut r = if screening.findings.is_empty() {
        run::execute(&one, &source.code, screening, data, pre, gate)?
    } else {
        run::rejected(&one, &source.code, screening)
    };
    r.warnings.extend(source.warnings);
    Ok(Line::Result(Box::new(r)))
}

fn finish(mut s: Summary, started: Instant) -> Summary {
    let wall = started.elapsed().max(Duration::from_millis(1)).as_secs_f64();
    s.wall_s = run::result::round3(wall);
    s.per_minute = run::result::round3(s.done() as f64 * 60.0 / wall);
    s
}

/// `status` counts in a stable order, for people.
pub fn describe(s: &Summary) -> String {
    let mut out =
        format!("batch: {} strategies, {} done in {:.1}s ({:.1}/min)", s.total, s.done(), s.wall_s, s.per_minute);
    if s.skipped_resumed > 0 {
        out.push_str(&format!(", {} skipped (already in the output)", s.skipped_resumed));
    }
    let counts: Vec<String> = s.by_status.iter().map(|(k, v)| format!("{k} {v}")).collect();
    out.push_str(&format!("\n  by status: {}", counts.join(", ")));
    if !s.top.is_empty() {
        out.push_str("\n  best by Sharpe:");
        for (sharpe, path) in &s.top {
            out.push_str(&format!("\n    {sharpe:>7.3}  {}", crate::printer::terminal_safe(path)));
        }
    }
    out
}

/// `Status` is used by callers that map lines to exit codes.
pub fn is_ok(line: &Line) -> bool {
    matches!(line, Line::Result(r) if r.status == Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_expand_files_directories_and_stdin_lists() {
        let dir = tempfile::tempdir().expect("tmp");
        for name in ["b.py", "a.py", "notes.txt"] {
            std::fs::write(dir.path().join(name), "x = 1\n").expect("write");
        }
        std::fs::create_dir(dir.path().join("sub.py")).expect("a directory named like a strategy");
        let mut stdin = std::io::Cursor::new("one.py\n\n# comment\n  two.py  \n");
        let got = expand(&[dir.path().to_path_buf(), PathBuf::from("-"), PathBuf::from("c.py")], &mut stdin)
            .expect("expands");
        let names: Vec<String> =
            got.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
        assert_eq!(names, ["a.py", "b.py", "one.py", "two.py", "c.py"]);
    }

    #[test]
    fn resume_index_reads_provenance_and_skips_torn_lines() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("r.jsonl");
        std::fs::write(
            &out,
            "{\"provenance\":{\"strategy_sha256\":\"s\",\"data_sha256\":\"d\",\"config_sha256\":\"c\"}}\n{\"provenance\":{\"strategy_sha256\":\"t\",\n",
        )
        .expect("write");
        let idx = ResumeIndex::load(&out).expect("loads");
        assert!(idx.contains("s", "d", "c"));
        assert!(!idx.contains("s", "d", "other config"));
        assert_eq!(idx.len(), 1);
        assert!(ResumeIndex::load(&dir.path().join("missing")).expect("empty").is_empty());
    }

    #[test]
    fn resume_index_survives_a_line_cut_inside_a_utf8_sequence_and_binary_junk() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("r.jsonl");
        let good = "{\"strategy\":{\"path\":\"策略.py\"},\"provenance\":{\"strategy_sha256\":\"s\",\"data_sha256\":\"d\",\"config_sha256\":\"c\"}}";
        let cut = &good.as_bytes()[..good.find('略').expect("CJK") + 1]; // inside the character
        let mut bytes = cut.to_vec();
        bytes.push(b'\n');
        bytes.extend_from_slice(&[0xff, 0xfe, 0x00, b'\n']);
        bytes.extend_from_slice(good.as_bytes());
        bytes.push(b'\n');
        std::fs::write(&out, bytes).expect("write");
        let idx = ResumeIndex::load(&out).expect("a torn or binary line is skipped, not an error");
        assert!(idx.contains("s", "d", "c"));
        assert_eq!(idx.len(), 1);
    }

    #[test]
    fn a_stdin_list_may_name_files_whose_names_are_not_utf8() {
        let mut stdin = std::io::Cursor::new(b"caf\xe9.py\r\n\n  ok.py\n".to_vec());
        let got = expand(&[PathBuf::from("-")], &mut stdin).expect("bytes, not text");
        assert_eq!(got, [PathBuf::from(std::ffi::OsStr::from_bytes(b"caf\xe9.py")), PathBuf::from("ok.py")]);
    }

    #[test]
    fn an_expansion_without_strategies_names_what_was_searched() {
        let dir = tempfile::tempdir().expect("tmp");
        let err = expand_some(&[dir.path().to_path_buf(), PathBuf::from("-")], &mut std::io::Cursor::new("\n# none\n"))
            .expect_err("nothing found");
        let text = err.to_string();
        assert!(text.contains(&dir.path().display().to_string()) && text.contains("stdin"), "{text}");
        assert!(matches!(err, InputError::NoStrategies { .. }));
    }

    #[test]
    fn the_summary_keeps_counts_and_only_the_top_few() {
        let mut s = Summary::new(10, 0);
        for i in 0..10 {
            s.add(&Line::error(Path::new(&format!("{i}.py")), &Error::Internal("x".into())));
        }
        assert_eq!(s.by_status.get("error"), Some(&10));
        assert!(s.top.len() <= TOP);
    }
}
