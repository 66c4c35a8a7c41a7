//! The run directory of a scheduled batch: the one place submitter, workers
//! and `status`/`collect`/`cancel` meet, so it lives on a file system every
//! node shares.
//!
//! ```text
//! RUN/manifest.json            what was submitted: strategies (path, copy, sha256),
//!                              data (path, sha256), the config's inputs and hash
//! RUN/strategies/00042/x.py    the copy each worker runs (its hash checked first)
//! RUN/shards/00003.jsonl       one result line per strategy of shard 3 (appended under flock)
//! RUN/shards/00003.events.jsonl  the shard's worker starts and ends (host, job, time, exit code)
//! RUN/submissions.jsonl        one line per sbatch: job id, shards, array spec
//! RUN/job.sh, RUN/logs/        the generated batch script and the tasks' output
//! ```
//!
//! Workers copy nothing back: results are lines appended whole under an
//! exclusive lock, and a line cut by a crash is skipped by every reader (and
//! its strategy counts as missing, so `--resume` runs it again). The
//! manifest is written once, atomically (temp file + rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ScaleError;

/// The manifest's format; a worker refuses any other.
pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const SUBMISSIONS: &str = "submissions.jsonl";
pub const SCRIPT: &str = "job.sh";
const STRATEGIES: &str = "strategies";
const SHARDS: &str = "shards";
pub const LOGS: &str = "logs";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// Labels every container of the run (`finsandbox.batch-run`).
    pub run_id: String,
    pub created_at: u64,
    pub finsandbox_version: String,
    pub data: DataRef,
    pub config: ConfigRef,
    /// `--engine` as given to `submit`, for the workers.
    pub engine: Option<String>,
    pub shard_size: usize,
    /// Containers at a time in each worker.
    pub jobs: usize,
    /// In input order; `collect` writes lines in this order.
    pub strategies: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRef {
    pub path: PathBuf,
    pub sha256: String,
}

/// Everything the effective settings were resolved from, and their hash:
/// a worker resolves again from exactly these inputs and refuses to run
/// unless it arrives at the same hash (a changed config file or seccomp
/// profile is an error, never a silent difference between shards).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigRef {
    pub sha256: String,
    /// `--config` as given.
    pub file: Option<PathBuf>,
    /// The submitter's working directory (relative paths resolve against it).
    pub cwd: PathBuf,
    /// The submitter's variables the config layers read (`FINSANDBOX_*`,
    /// `DOCKER_*`, `HOME`, `XDG_CONFIG_HOME`).
    pub env: BTreeMap<String, String>,
    pub flags: Flags,
}

/// The settings flags of `submit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    pub image: Option<String>,
    pub memory: Option<String>,
    pub cpus: Option<f64>,
    pub timeout_seconds: Option<u64>,
    pub runtime: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub skip_screening: bool,
}

impl Flags {
    pub fn overrides(&self) -> crate::config::Overrides {
        crate::config::Overrides {
            image: self.image.clone(),
            memory: self.memory.clone(),
            cpus: self.cpus,
            timeout_seconds: self.timeout_seconds,
            runtime: self.runtime.clone(),
            ..Default::default()
        }
    }
}

/// One strategy of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// As given to `submit`: the path every result line carries.
    pub path: String,
    /// The copy the worker runs, relative to the run directory; `None` when
    /// the file could not be read at submit time: the worker then writes
    /// its error line and runs nothing (not even the file as it is now).
    pub copy: Option<String>,
    /// sha256 of the file's bytes as copied.
    pub sha256: Option<String>,
    /// Why it could not be read at submit time.
    #[serde(default)]
    pub unreadable: Option<String>,
}

impl Manifest {
    pub fn shards(&self) -> Vec<Range<usize>> {
        shard_ranges(self.strategies.len(), self.shard_size)
    }
}

/// `n` strategies in shards of `size` (the last one shorter), in order.
pub fn shard_ranges(n: usize, size: usize) -> Vec<Range<usize>> {
    let size = size.max(1);
    (0..n.div_ceil(size)).map(|k| k * size..((k + 1) * size).min(n)).collect()
}

/// A worker's start or end, one line in `shards/K.events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `start` or `end`.
    pub event: String,
    /// Seconds since the epoch, with milliseconds.
    pub at: f64,
    pub host: String,
    /// `SLURM_JOB_ID` (the task's own id), when run by Slurm.
    pub job: Option<String>,
    pub pid: u32,
    pub exit_code: Option<i32>,
}

/// One `sbatch`, one line in `submissions.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub job_id: String,
    pub shards: Vec<usize>,
    pub array: String,
    pub at: u64,
}

/// An open run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    /// Create a new, empty run directory (an existing non-empty one is
    /// refused: it belongs to another run, or to this one's `--resume`).
    pub fn create(path: &Path) -> Result<RunDir, ScaleError> {
        let exists_nonempty = std::fs::read_dir(path).map(|mut d| d.next().is_some()).unwrap_or(false);
        if exists_nonempty {
            return Err(ScaleError::RunDirExists { path: path.to_path_buf() });
        }
        let bad = |e: std::io::Error| ScaleError::NotRunDir { path: path.to_path_buf(), message: e.to_string() };
        std::fs::create_dir_all(path).map_err(bad)?;
        let root = std::fs::canonicalize(path).map_err(bad)?;
        for d in [STRATEGIES, SHARDS, LOGS] {
            std::fs::create_dir_all(root.join(d)).map_err(bad)?;
        }
        Ok(RunDir { root })
    }

    /// Open an existing run directory and read its manifest.
    pub fn open(path: &Path) -> Result<(RunDir, Manifest), ScaleError> {
        let bad = |message: String| ScaleError::NotRunDir { path: path.to_path_buf(), message };
        let root = std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))?;
        let file = root.join(MANIFEST);
        let text =
            crate::fsread::read_regular(&file, 256 << 20).map_err(|e| bad(format!("cannot read `{MANIFEST}`: {e}")))?;
        let m: Manifest =
            serde_json::from_slice(&text).map_err(|e| bad(format!("`{MANIFEST}` does not parse: {e}")))?;
        if m.format != FORMAT {
            return Err(bad(format!("manifest format {} (this finsandbox reads {FORMAT})", m.format)));
        }
        Ok((RunDir { root }, m))
    }

    /// Write the manifest whole or not at all.
    pub fn write_manifest(&self, m: &Manifest) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(m).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.root)?;
        tmp.write_all(&json)?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.root.join(MANIFEST)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Where entry `index`'s copy goes (relative): its own folder, so the
    /// file keeps its name (a notebook stays a notebook).
    pub fn copy_path(index: usize, original: &Path) -> String {
        let name = original.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "strategy".into());
        format!("{STRATEGIES}/{index:05}/{name}")
    }

    pub fn results(&self, shard: usize) -> PathBuf {
        self.root.join(SHARDS).join(format!("{shard:05}.jsonl"))
    }

    pub fn events(&self, shard: usize) -> PathBuf {
        self.root.join(SHARDS).join(format!("{shard:05}.events.jsonl"))
    }

    /// The result lines of a shard, by strategy path.
    pub fn read_results(&self, shard: usize) -> std::io::Result<BTreeMap<String, String>> {
        Ok(parse_results(&read_or_empty(&self.results(shard))?))
    }

    pub fn read_events(&self, shard: usize) -> std::io::Result<Vec<Event>> {
        Ok(parse_lines(&read_or_empty(&self.events(shard))?))
    }

    pub fn submissions(&self) -> std::io::Result<Vec<Submission>> {
        Ok(parse_lines(&read_or_empty(&self.root.join(SUBMISSIONS))?))
    }

    pub fn record_submission(&self, s: &Submission) -> std::io::Result<()> {
        crate::jsonl::append_to(&self.root.join(SUBMISSIONS), &serde_json::to_string(s).map_err(std::io::Error::other)?)
    }
}

fn read_or_empty(path: &Path) -> std::io::Result<String> {
    match std::fs::read(path) {
        Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// Lines that parse as `T`; torn or foreign lines are skipped.
fn parse_lines<T: for<'de> Deserialize<'de>>(text: &str) -> Vec<T> {
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// Result lines by `strategy.path`, the first whole line per path (a line
/// cut short by a crash is not JSON and is skipped).
pub fn parse_results(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if let Some(p) = v["strategy"]["path"].as_str() {
            out.entry(p.to_string()).or_insert_with(|| line.to_string());
        }
    }
    out
}

/// The lines in manifest order, and the indices of the strategies that
/// have none.
pub fn merge<'a>(entries: &[Entry], found: &'a BTreeMap<String, String>) -> (Vec<&'a str>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        match found.get(&e.path) {
            Some(l) => lines.push(l.as_str()),
            None => missing.push(i),
        }
    }
    (lines, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(p: &str) -> Entry {
        Entry { path: p.into(), copy: None, sha256: None, unreadable: None }
    }

    #[test]
    fn shards_cover_every_strategy_in_order_the_last_one_shorter() {
        assert_eq!(shard_ranges(7, 3), vec![0..3, 3..6, 6..7]);
        assert_eq!(shard_ranges(6, 3), vec![0..3, 3..6]);
        assert_eq!(shard_ranges(2, 50), vec![0..2]);
        assert!(shard_ranges(0, 50).is_empty());
        assert_eq!(shard_ranges(2, 0), vec![0..1, 1..2], "a zero size is one per shard");
    }

    #[test]
    fn results_are_keyed_by_path_torn_lines_skipped_the_first_line_wins() {
        let text = "{\"strategy\":{\"path\":\"a.py\"},\"n\":1}\n{\"strategy\":{\"path\":\"a.py\"},\"n\":2}\n\
                    {\"strategy\":{\"path\":\"b.py\"}}\n{\"strategy\":{\"path\":\"c.p";
        let r = parse_results(text);
        assert_eq!(r.len(), 2);
        assert!(r["a.py"].contains("\"n\":1"));
        assert!(!r.contains_key("c.py"));
    }

    #[test]
    fn merge_keeps_manifest_order_and_names_the_missing() {
        let found = parse_results("{\"strategy\":{\"path\":\"c.py\"}}\n{\"strategy\":{\"path\":\"a.py\"}}\n");
        let entries = [entry("a.py"), entry("b.py"), entry("c.py"), entry("d.py")];
        let (lines, missing) = merge(&entries, &found);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("a.py") && lines[1].contains("c.py"), "{lines:?}");
        assert_eq!(missing, [1, 3]);
    }

    #[test]
    fn append_repairs_a_torn_last_line_before_writing() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.jsonl");
        std::fs::write(&p, "{\"strategy\":{\"path\":\"a.py\"}}\n{\"strategy\":{\"pa").expect("write");
        crate::jsonl::append_to(&p, "{\"strategy\":{\"path\":\"b.py\"}}").expect("append");
        let r = parse_results(&std::fs::read_to_string(&p).expect("read"));
        assert_eq!(r.keys().collect::<Vec<_>>(), ["a.py", "b.py"]);
    }

    #[test]
    fn a_new_run_dir_refuses_a_used_one_and_open_refuses_a_non_run_dir() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("x"), "").expect("write");
        assert!(matches!(RunDir::create(dir.path()), Err(ScaleError::RunDirExists { .. })));
        assert!(matches!(RunDir::open(dir.path()), Err(ScaleError::NotRunDir { .. })));
        let fresh = dir.path().join("run");
        let rd = RunDir::create(&fresh).expect("creates");
        assert!(rd.root.join("shards").is_dir() && rd.root.join("strategies").is_dir());
    }

    #[test]
    fn copies_keep_their_file_name_in_a_folder_per_index() {
        assert_eq!(RunDir::copy_path(42, Path::new("gen/x.ipynb")), "strategies/00042/x.ipynb");
    }
}
