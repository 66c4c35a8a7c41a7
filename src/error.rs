//! Typed errors and the process exit codes they map to.
//!
//! Every failure the CLI can report has exactly one exit code, documented in
//! the README's table; scripts and the Python loops that drive finsandbox
//! branch on these numbers, so they never change meaning once released.
//! Run outcomes (ok, strategy error, timeout, ...) map to codes through
//! [`crate::report::Status::exit_code`]; this module covers the errors that
//! stop a run from happening or finishing.

use std::path::PathBuf;

/// Process exit codes. Values are part of the public interface.
pub mod code {
    pub const OK: i32 = 0;
    pub const INTERNAL: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const ENGINE: i32 = 3;
    pub const INPUT: i32 = 4;
    /// `batch collect`: some strategies of the run have no result yet.
    pub const INCOMPLETE: i32 = 5;
    pub const STRATEGY_ERROR: i32 = 10;
    pub const REJECTED: i32 = 11;
    pub const TIMEOUT: i32 = 12;
    pub const MEMORY_LIMIT: i32 = 13;
    pub const KILLED: i32 = 14;
    pub const INVALID_OUTPUT: i32 = 15;
    pub const SCORING_ERROR: i32 = 16;
    pub const SIGHUP: i32 = 129;
    pub const SIGINT: i32 = 130;
    pub const SIGTERM: i32 = 143;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),

    #[error("{0}")]
    Engine(#[from] EngineError),

    #[error("{0}")]
    Input(#[from] InputError),

    /// A strategy the screening refused, where no result document is made
    /// for it (`k8s render`: a rejected strategy is never rendered).
    #[error("strategy `{path}` was rejected by screening: {}", findings.join("; "))]
    Rejected { path: PathBuf, findings: Vec<String> },
    #[error("{0}")]
    Scale(#[from] ScaleError),

    #[error("interrupted by {name}")]
    Interrupted { name: &'static str, code: i32 },

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => code::USAGE,
            Error::Engine(_) => code::ENGINE,
            Error::Input(_) => code::INPUT,
            Error::Rejected { .. } => code::REJECTED,
            Error::Scale(e) => e.exit_code(),
            Error::Interrupted { code, .. } => *code,
            Error::Internal(_) => code::INTERNAL,
        }
    }

    /// A line telling the user what to do next, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Engine(e) => e.hint(),
            Error::Input(e) => e.hint(),
            Error::Rejected { .. } => Some("`finsandbox validate` shows every finding with its line".into()),
            Error::Scale(e) => e.hint(),
            _ => None,
        }
    }

    /// The stable machine-readable kind, used in `--json` error objects.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) => "config_error",
            Error::Engine(_) => "engine_error",
            Error::Input(_) => "input_error",
            Error::Rejected { .. } => "rejected",
            Error::Scale(_) => "scale_error",
            Error::Interrupted { .. } => "interrupted",
            Error::Internal(_) => "internal_error",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },

    #[error("invalid config file `{path}`: {message}")]
    Parse { path: PathBuf, message: String },

    #[error("invalid value for `{key}` ({origin}): {message}")]
    Value { key: String, origin: String, message: String },

    #[error("the sandbox is disabled (`docker.enabled: false`, {origin}); finsandbox never runs strategies outside the container")]
    Disabled { origin: String },

    #[error("refusing to weaken the sandbox: {}", reasons.join("; "))]
    Insecure { reasons: Vec<String> },

    #[error("seccomp profile `{path}` is unusable: {message}")]
    Seccomp { path: PathBuf, message: String },

    #[error("refusing to render: Kubernetes cannot express these protections exactly: {}; each must be accepted in `{key}`", gaps.join(", "))]
    UnacceptedGaps { gaps: Vec<String>, key: &'static str },
}

impl ConfigError {
    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Disabled { .. } => {
                Some("set `docker.enabled: true` (the default) or unset `DOCKER_SANDBOX_ENABLED`".into())
            }
            ConfigError::Insecure { .. } => {
                Some("pass `--allow-insecure` to run anyway; the result then records `insecure: true`".into())
            }
            ConfigError::Parse { .. } => Some("see README.md, section `Configuration`, for the accepted keys".into()),
            ConfigError::UnacceptedGaps { gaps, .. } => Some(format!(
                "docs/scale-out.md says what covers each; add {} to `k8s.accept_gaps` in the config file \
                 (or `FINSANDBOX_K8S_ACCEPT_GAPS`, comma-separated)",
                gaps.join(", ")
            )),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no container engine: `{name}` was not found on PATH")]
    NotFound { name: String },

    #[error("the container engine does not answer: {message}")]
    Unavailable { message: String },

    #[error("the container engine is too old: {found}; finsandbox needs {needed} or newer")]
    TooOld { found: String, needed: String },

    #[error("image `{image}` is not present")]
    ImageMissing { image: String },

    #[error("image `{image}` is stale: {reason}")]
    ImageStale { image: String, reason: String },

    #[error("`{command}` failed ({status}){}", fmt_stderr(stderr))]
    Command { command: String, status: String, stderr: String },

    #[error("`{command}` did not finish within {seconds}s")]
    CommandTimeout { command: String, seconds: u64 },

    #[error("image build failed: {0}")]
    Build(String),

    #[error("the sandbox self-test failed on runtime `{runtime}`: {message}")]
    Unhealthy { runtime: String, message: String },

    #[error("could not tighten the CPU limit of `{name}` to {cpus} after its warm-up, so the strategy was not run: {message}")]
    CpuLimit { name: String, cpus: f64, message: String },
}

fn fmt_stderr(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(": {trimmed}")
    }
}

impl EngineError {
    fn hint(&self) -> Option<String> {
        match self {
            EngineError::CpuLimit { .. } => Some(
                "set `docker.startup_cpus` to the same value as `cpu_limit` to run without a warm-up boost".into(),
            ),
            EngineError::NotFound { .. } => Some(
                "install Docker (`apt-get install docker.io`) or name a Docker-compatible CLI with `--engine` / `FINSANDBOX_ENGINE`"
                    .into(),
            ),
            EngineError::Unavailable { .. } => Some(
                "start the engine (`systemctl start docker`, or `dockerd &` where there is no systemd) and check `docker info`"
                    .into(),
            ),
            EngineError::Unhealthy { .. } => Some(
                "run `finsandbox doctor` for the full report; do not run untrusted strategies on this host until it passes".into(),
            ),
            EngineError::ImageMissing { .. } | EngineError::ImageStale { .. } => {
                Some("run `finsandbox image build` (offline: `--method debootstrap`)".into())
            }
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read strategy `{path}`: {source}")]
    Strategy { path: PathBuf, source: std::io::Error },

    #[error("strategy `{path}` is not valid UTF-8 text")]
    StrategyEncoding { path: PathBuf },

    #[error("strategy `{path}` is {size} bytes, over the {limit}-byte limit")]
    StrategyTooLarge { path: PathBuf, size: u64, limit: u64 },

    #[error("data file `{path}`: {message}")]
    Data { path: PathBuf, message: String },

    #[error("manifest `{path}`: {message}")]
    Manifest { path: PathBuf, message: String },

    #[error("strategy `{path}` cannot be read as a notebook: {message}")]
    Notebook { path: PathBuf, message: String },

    #[error("no strategies in {inputs}")]
    NoStrategies { inputs: String },

    #[error("cannot append the results to `{path}`: {source}")]
    Output { path: PathBuf, source: std::io::Error },
}

impl InputError {
    fn hint(&self) -> Option<String> {
        match self {
            InputError::Data { .. } => {
                Some("--data takes a Parquet file in long layout: columns `date`, `symbol` and numeric fields".into())
            }
            InputError::NoStrategies { .. } => {
                Some("give strategy files, directories holding `*.py` files (not searched recursively), or `-` with one path per line on stdin".into())
            }
            InputError::Output { .. } => {
                Some("--out takes a file (created if missing) in a directory you can write to".into())
            }
            _ => None,
        }
    }
}

/// Batches handed to a scheduler (`batch submit|status|collect|cancel`):
/// the scheduler's commands, the run directory, and what changed under it.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("no scheduler: `{name}` was not found on PATH")]
    SchedulerNotFound { name: String },

    #[error("`{command}` failed ({status}){}", fmt_stderr(stderr))]
    SchedulerCommand { command: String, status: String, stderr: String },

    #[error("`{path}` is not a finsandbox run directory: {message}")]
    NotRunDir { path: PathBuf, message: String },

    #[error("run directory `{path}` already exists and is not empty")]
    RunDirExists { path: PathBuf },

    #[error("{what} `{path}` changed since the batch was submitted (sha256 {expected}, now {found})")]
    Changed { what: &'static str, path: String, expected: String, found: String },

    #[error("shard {shard} does not exist: the run has {shards} shard(s)")]
    NoShard { shard: usize, shards: usize },

    #[error("{missing} of {total} strategies have no result yet")]
    Incomplete { missing: usize, total: usize, run_dir: PathBuf },
}

impl ScaleError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ScaleError::SchedulerNotFound { .. } | ScaleError::SchedulerCommand { .. } => code::ENGINE,
            ScaleError::NotRunDir { .. } | ScaleError::Changed { .. } => code::INPUT,
            ScaleError::RunDirExists { .. } | ScaleError::NoShard { .. } => code::USAGE,
            ScaleError::Incomplete { .. } => code::INCOMPLETE,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ScaleError::SchedulerNotFound { .. } => Some(
                "run on a Slurm login node, or put Slurm's commands (`sbatch`, `squeue`, `scancel`) on PATH".into(),
            ),
            ScaleError::RunDirExists { path } => Some(format!(
                "resubmit what has no result with `finsandbox batch submit --resume {}`, or choose another --run-dir",
                path.display()
            )),
            ScaleError::NotRunDir { .. } => {
                Some("give the directory `finsandbox batch submit --run-dir DIR` created".into())
            }
            ScaleError::Changed { .. } => Some(
                "a run only ever scores what was submitted: submit the changed files as a new run".into(),
            ),
            ScaleError::Incomplete { run_dir, .. } => Some(format!(
                "`finsandbox batch status {0}` shows the unfinished shards; `finsandbox batch submit --resume {0}` runs them",
                run_dir.display()
            )),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
