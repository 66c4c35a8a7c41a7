//! `finsandbox batch`'s arguments, and its Slurm subcommands.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::exec::parse_date_arg;

pub(super) const BATCH_EXAMPLES: &str = "\
Examples:
  finsandbox batch strategies/ --data market.parquet --jobs 4 --out results.jsonl
  finsandbox batch a.py b.py c.py --data tw/ --jobs 2 --json          # JSONL on stdout
  ls gen/*.py | finsandbox batch - --data market.parquet --resume --out results.jsonl
  finsandbox batch submit strategies/ --data /shared/m.parquet --run-dir /shared/runs/R1   # Slurm

One line per strategy, the schema of `exec --json` (a strategy that cannot be
read gets an error line with its path). Exit codes: 0 the batch ran, whatever
the strategies did; 2 usage or config error; 3 engine unavailable; 4 bad data,
no strategies, or an `--out` that cannot be appended to; 130/143 interrupted (every container removed, the lines so
far valid). A strategy file named like a subcommand (`submit`, `status`,
`collect`, `cancel`) is given as `./submit`.";

pub(super) const SUBMIT_EXAMPLES: &str = "\
Examples:
  finsandbox batch submit --backend slurm strategies/ --data /shared/market.parquet \\
      --run-dir /shared/runs/R1 --shard-size 50 --array-parallel 32 \\
      --sbatch-arg=--partition=research
  finsandbox batch status /shared/runs/R1
  finsandbox batch collect /shared/runs/R1 --out results.jsonl
  finsandbox batch cancel /shared/runs/R1
  finsandbox batch submit --resume /shared/runs/R1     # only what has no result yet

The run directory must be on a file system every node shares; each array task
runs `finsandbox batch worker` (this binary, by absolute path) over one shard on
its node's engine. Exit codes: 0 submitted, 2 usage error or run directory in
use, 3 Slurm not found or sbatch failed, 4 bad data, strategies or run directory.";

#[derive(Debug, Args)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub action: Option<BatchAction>,

    /// Strategy files, directories (their `*.py`), or `-` for a list of paths on stdin.
    #[arg(required = true, value_name = "STRATEGY")]
    pub inputs: Vec<PathBuf>,

    /// Market data: a Parquet file in long layout, or a directory of tables.
    #[arg(long, value_name = "PATH", required = true)]
    pub data: Option<PathBuf>,

    /// Strategies running at a time, each with a warm successor (default: the number of CPUs).
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,

    /// Append one JSON line per strategy to this file (safe with concurrent writers).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Skip strategies whose (source, data, effective config) already have a line in `--out`.
    #[arg(long, requires = "out")]
    pub resume: bool,

    /// Stop starting new strategies after the first one that is not `ok`.
    #[arg(long)]
    pub fail_fast: bool,

    /// Skip source screening (to test the container layer); recorded in every result.
    #[arg(long)]
    pub skip_screening: bool,

    #[command(flatten)]
    pub limits: super::LimitArgs,

    /// `start_date` as strategies see it (YYYY-MM-DD; default: the data's first date).
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    pub start: Option<String>,

    /// `end_date` as strategies see it (YYYY-MM-DD; default: the data's last date).
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    pub end: Option<String>,

    /// OCI runtime registered with the engine, e.g. `runsc`.
    #[arg(long, value_name = "NAME")]
    pub runtime: Option<String>,

    /// After the run, update the counters in DIR and rewrite `DIR/finsandbox.prom`
    /// (node_exporter's textfile collector; config `metrics.textfile_dir`).
    #[arg(long, value_name = "DIR")]
    pub metrics_textfile: Option<PathBuf>,

    /// Append one JSON line per run (provenance, verdict, user, host) to FILE (config `audit.log`).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,

    /// Also serve the metrics live at `http://ADDR/metrics` while the batch runs (loopback only).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
}

/// A batch on a scheduler, in a run directory.
#[derive(Debug, Subcommand)]
pub enum BatchAction {
    /// Shard the strategies and submit them as a Slurm job array (or resubmit what has no result).
    #[command(after_help = SUBMIT_EXAMPLES)]
    Submit(Box<SubmitArgs>),

    /// Per shard: pending, running, done or failed, and how many strategies are done.
    Status {
        /// The run directory.
        run_dir: PathBuf,
    },

    /// Merge the shards' lines: one per strategy, in input order. Exit 5 when some are missing.
    Collect {
        /// The run directory.
        run_dir: PathBuf,
        /// Write the lines here (default: stdout).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },

    /// Cancel the run's jobs (`scancel`), then remove every container of the run left on this host.
    Cancel {
        /// The run directory.
        run_dir: PathBuf,
    },

    /// One shard on this node's engine: what each array task runs.
    #[command(hide = true)]
    Worker {
        #[arg(long, value_name = "DIR")]
        run_dir: PathBuf,
        #[arg(long, value_name = "N")]
        shard: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Slurm,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The scheduler.
    #[arg(long, value_enum, default_value_t = Backend::Slurm)]
    pub backend: Backend,

    /// Strategy files, directories (their `*.py`), or `-` for a list of paths on stdin.
    #[arg(value_name = "STRATEGY", required_unless_present = "resume", conflicts_with = "resume")]
    pub inputs: Vec<PathBuf>,

    /// Market data (on a file system every node shares).
    #[arg(long, value_name = "PATH", required_unless_present = "resume", conflicts_with = "resume")]
    pub data: Option<PathBuf>,

    /// A new run directory (on a file system every node shares).
    #[arg(long, value_name = "DIR", required_unless_present = "resume", conflicts_with = "resume")]
    pub run_dir: Option<PathBuf>,

    /// Resubmit the shards of this run directory that are neither done nor queued; only
    /// strategies without a result line run.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,

    /// Strategies per array task.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_size: u64,

    /// Array tasks running at once (`--array=...%N`; default: as many as Slurm allows).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub array_parallel: Option<u64>,

    /// Containers at a time in each array task.
    #[arg(long, short, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: u64,

    /// An extra `sbatch` argument (repeatable), e.g. `--sbatch-arg=--partition=research`.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,

    /// Skip source screening; recorded in every result.
    #[arg(long, conflicts_with = "resume")]
    pub skip_screening: bool,

    /// Config file.
    #[arg(long, value_name = "PATH", conflicts_with = "resume")]
    pub config: Option<PathBuf>,

    /// Sandbox image.
    #[arg(long, value_name = "IMAGE", conflicts_with = "resume")]
    pub image: Option<String>,

    /// Memory limit per container, e.g. `512m` (the job's `--mem` covers it).
    #[arg(long, value_name = "SIZE", conflicts_with = "resume")]
    pub memory: Option<String>,

    /// CPU limit per container.
    #[arg(long, value_name = "CPUS", conflicts_with = "resume")]
    pub cpus: Option<f64>,

    /// Wall-clock limit per strategy, in seconds.
    #[arg(long, value_name = "SECONDS", conflicts_with = "resume")]
    pub timeout: Option<u64>,

    /// `start_date` as strategies see it (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg, conflicts_with = "resume")]
    pub start: Option<String>,

    /// `end_date` as strategies see it (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg, conflicts_with = "resume")]
    pub end: Option<String>,

    /// OCI runtime registered with the engine, e.g. `runsc`.
    #[arg(long, value_name = "NAME", conflicts_with = "resume")]
    pub runtime: Option<String>,
}
