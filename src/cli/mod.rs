//! Command-line interface definitions. Parsing only: no work happens here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::image::Method;

mod batch;
mod exec;
mod limits;

use batch::BATCH_EXAMPLES;
pub use batch::{Backend, BatchAction, BatchArgs, SubmitArgs};
pub use exec::ExecArgs;
use exec::EXEC_EXAMPLES;
pub use limits::LimitArgs;

const VALIDATE_EXAMPLES: &str = "\
Examples:
  finsandbox validate strategy.py
  finsandbox validate generated/*.py --json
  cat strategy.py | finsandbox validate - --format sarif > findings.sarif

Exit codes: 0 every file clean, 11 findings (rejected), 4 a file could not be
read, 2 usage or config error. Rules: FS001 imports, FS002 forbidden builtins,
FS003 dunder access, FS004 dangerous library surface, FS005 unreadable source,
FS006 size and nesting limits.";

const CLEANUP_EXAMPLES: &str = "\
Examples:
  finsandbox cleanup                    # orphans: owner gone, host rebooted, or past timeout
  finsandbox cleanup --dry-run --json   # what would go, as JSON
  finsandbox cleanup --all --older-than 2h

Only containers labelled finsandbox.managed=true are ever touched. Exit 0 when
nothing orphaned is left, 3 when a removal failed or the engine is unavailable.";

const K8S_RENDER_EXAMPLES: &str = "\
Examples:
  finsandbox k8s render strategy.py --data-pvc market-data > run.yaml
  finsandbox k8s render strategy.py --data-pvc market-data --runtime-class gvisor --k8s-version 1.33 -o json
  finsandbox k8s render --batch --manifest strategies/ --data-pvc market-data --parallelism 20

Each strategy runs in an init container (untrusted, no network, non-root,
read-only root, no capabilities, Localhost seccomp profile, requests = limits);
a trusted container scores it. What Kubernetes cannot express exactly is a
gap, and rendering refuses until each is accepted in `k8s.accept_gaps`
(docs/scale-out.md). Exit codes: 0 rendered, 2 usage or config error (gaps not
accepted, unsupported version), 4 unreadable strategy or manifest, 11 a
strategy rejected by screening (nothing rendered).";

#[derive(Debug, Parser)]
#[command(
    name = "finsandbox",
    version,
    about = "Run untrusted, LLM-written Python trading strategies in a hardened container"
)]
pub struct Cli {
    /// Print one JSON object on stdout instead of a human summary.
    #[arg(long, global = true)]
    pub json: bool,

    /// Print nothing on stderr but errors; `exec` prints no summary on stdout either
    /// (unless --json): the exit code, --audit-log and metrics carry the result.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Container engine CLI: `docker` (default), `podman`, or a path.
    #[arg(long, global = true, value_name = "NAME")]
    pub engine: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one strategy in the sandbox and report the result.
    #[command(after_help = EXEC_EXAMPLES)]
    Exec(Box<ExecArgs>),

    /// Run many strategies: screened first, then `--jobs` containers at a time, one JSON line each.
    /// `batch submit|status|collect|cancel` hand the batch to Slurm.
    #[command(after_help = BATCH_EXAMPLES, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Batch(Box<BatchArgs>),

    /// Screen strategy sources (tree-sitter, allow-list) without running them.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),

    /// Remove containers left behind by runs that died (only ours, by label).
    #[command(after_help = CLEANUP_EXAMPLES)]
    Cleanup(CleanupArgs),

    /// Check the engine, image and profile, and run the escape self-test on each runtime.
    Doctor(DoctorArgs),

    /// Market data: write the synthetic sample, or import a CSV.
    #[command(subcommand)]
    Data(DataCommand),

    /// Build or inspect the sandbox image.
    #[command(subcommand)]
    Image(ImageCommand),

    /// Show the effective configuration, or write a commented config file.
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Render Kubernetes objects for a strategy (a Pod) or a batch (an Indexed Job).
    #[command(subcommand)]
    K8s(K8sCommand),

    /// Show the embedded seccomp profile (for auditors).
    #[command(subcommand)]
    Seccomp(SeccompCommand),

    /// Generate shell completions or the man page (used by packaging).
    #[command(hide = true)]
    Generate {
        #[command(subcommand)]
        what: GenerateCommand,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Test only these runtimes (default: every runtime the engine offers).
    #[arg(long, value_name = "NAME")]
    pub runtime: Vec<String>,

    /// Config file (limits and profile used for the self-test).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Run the checks on a compute node instead: `slurm` submits them as a job
    /// (output in the working directory, which nodes must share)
    /// and refuses the cluster (exit 3) unless the node's self-test passes.
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<Backend>,

    /// An extra `sbatch` argument for that job (repeatable), e.g. `--sbatch-arg=--partition=research`.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true, requires = "backend")]
    pub sbatch_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Show what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Only containers at least this old (`90s`, `30m`, `2h`, `1d`).
    #[arg(long, value_name = "DURATION", value_parser = crate::cleanup::parse_duration)]
    pub older_than: Option<std::time::Duration>,

    /// Every container of ours, whether its owner still runs or not.
    #[arg(long)]
    pub all: bool,

    /// Set the `finsandbox_orphans` gauge (orphans found) and add the removed ones
    /// to the reaped counter in `DIR/finsandbox.prom`.
    #[arg(long, value_name = "DIR")]
    pub metrics_textfile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Strategy files to screen; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format (`--json` is the same as `--format json`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Config file for `screening:` settings.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Write a deterministic synthetic dataset (a directory: daily prices, monthly revenue, quarterly fundamentals).
    Sample {
        /// Output directory.
        out: PathBuf,
        /// Number of symbols.
        #[arg(long, default_value_t = 300)]
        symbols: usize,
        /// Years of daily data, from 2018.
        #[arg(long, default_value_t = 6)]
        years: i32,
        /// Write the dataset shaped like finlab's own: tables `price`, `etl`,
        /// `monthly_revenue`, `fundamental_features`, ... with finlab's Chinese column names.
        #[arg(long)]
        finlab: bool,
    },
    /// Convert a long CSV (date,symbol,fields...) to Parquet.
    Import {
        /// The CSV file.
        csv: PathBuf,
        /// The Parquet file to write.
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every effective setting, its value, and where it came from (default, file, variable, flag).
    Show {
        /// Config file (default: the first of ./finsandbox.yaml, ./config/docker_config.yaml,
        /// $XDG_CONFIG_HOME/finsandbox/config.yaml, /etc/finsandbox/config.yaml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Write a commented config file restating the defaults.
    Init {
        /// Where to write it.
        #[arg(default_value = "finsandbox.yaml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Print the objects that run a strategy or a batch on a cluster (for `kubectl apply`).
    #[command(after_help = K8S_RENDER_EXAMPLES)]
    Render(Box<K8sRenderArgs>),
    /// Score what a rendered Pod's strategy container left (the Pod's trusted `score` container runs this).
    Score(K8sScoreArgs),
}

#[derive(Debug, Args)]
pub struct K8sScoreArgs {
    /// The shared volume the strategy container wrote (`frames`, `exit-code`); read as untrusted.
    #[arg(long, value_name = "DIR")]
    pub work: PathBuf,

    /// The rendered ConfigMap's files (`settings.json`, the strategy lines).
    #[arg(long, value_name = "DIR")]
    pub config_dir: PathBuf,

    /// The market data the strategy saw (the claim's mount).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,

    /// A batch's completion index (default: `JOB_COMPLETION_INDEX`; unset: a single strategy).
    #[arg(long, value_name = "N")]
    pub index: Option<usize>,

    /// Where the kubelet reads the termination message (at most 4096 bytes); skipped when absent.
    #[arg(long, value_name = "PATH", default_value = "/dev/termination-log")]
    pub termination_log: PathBuf,
}

#[derive(Debug, Args)]
pub struct K8sRenderArgs {
    /// The strategy (without `--batch`).
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    pub strategy: Option<PathBuf>,

    /// Render an Indexed Job for the strategies of `--manifest`.
    #[arg(long, requires = "manifest")]
    pub batch: bool,

    /// With `--batch`: a run directory with `manifest.json`, a directory of `*.py`,
    /// a manifest `.json`, or a file listing one strategy path per line.
    #[arg(long, value_name = "PATH", requires = "batch")]
    pub manifest: Option<PathBuf>,

    /// The PersistentVolumeClaim holding the market data (mounted read-only).
    #[arg(long, value_name = "NAME", value_parser = parse_dns_name)]
    pub data_pvc: String,

    /// A file or directory inside the claim to mount instead of its root (`subPath`).
    #[arg(long, value_name = "PATH", value_parser = parse_subpath)]
    pub data_subpath: Option<String>,

    /// RuntimeClass for the Pod, e.g. `gvisor` (rendered too, with `--runtime-handler`).
    #[arg(long, value_name = "NAME", value_parser = parse_dns_name)]
    pub runtime_class: Option<String>,

    /// The CRI handler of `--runtime-class`.
    #[arg(long, value_name = "NAME", default_value = "runsc", requires = "runtime_class")]
    pub runtime_handler: String,

    /// The Kubernetes version to render for (1.29 to 1.37).
    #[arg(long, value_name = "VERSION", default_value = crate::k8s::version::DEFAULT)]
    pub k8s_version: String,

    /// Output format: YAML documents, or a JSON `List` (`--json` prints finsandbox's own
    /// document instead: the objects and `hardening.gaps`).
    #[arg(long, short = 'o', value_enum, default_value_t = K8sOutput::Yaml)]
    pub output: K8sOutput,

    /// Namespace of the namespaced objects (default: kubectl's current one).
    #[arg(long, short = 'n', value_name = "NAME", value_parser = parse_dns_name)]
    pub namespace: Option<String>,

    /// The seccomp profile's path under the kubelet's seccomp root on every node.
    #[arg(long, value_name = "PATH", default_value = "profiles/finsandbox.json", value_parser = parse_subpath)]
    pub seccomp_localhost_profile: String,

    /// Image of the trusted scorer container (holds the finsandbox binary).
    #[arg(long, value_name = "IMAGE", default_value = concat!("finsandbox:", env!("CARGO_PKG_VERSION")))]
    pub scorer_image: String,

    /// With `--batch`: Pods at a time (default: all).
    #[arg(long, value_name = "N", requires = "batch", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallelism: Option<u32>,

    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum K8sOutput {
    Yaml,
    Json,
}

/// A Kubernetes object name: a DNS-1123 label (lowercase alphanumerics and
/// `-`, at most 63 characters, alphanumeric at both ends).
fn parse_dns_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a Kubernetes name (lowercase letters, digits and `-`, at most 63)"))
    }
}

/// A `subPath` or `localhostProfile`: relative, without `..`, as the API requires.
fn parse_subpath(s: &str) -> Result<String, String> {
    if s.is_empty() || s.starts_with('/') || s.split('/').any(|c| c == "..") {
        Err(format!("`{s}` must be a relative path inside the claim, without `..`"))
    } else {
        Ok(s.to_string())
    }
}

#[derive(Debug, Subcommand)]
pub enum SeccompCommand {
    /// Print the embedded profile (JSON) on stdout; its sha256 on stderr.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build the sandbox image (skipped when a current one exists, unless --force).
    Build(ImageBuildArgs),
}

#[derive(Debug, Args)]
pub struct ImageBuildArgs {
    /// How to build: offline with debootstrap, or from a Dockerfile (needs a registry).
    #[arg(long, value_enum, default_value_t = Method::Debootstrap)]
    pub method: Method,

    /// Image tag to create.
    #[arg(long, default_value = crate::config::DEFAULT_IMAGE)]
    pub tag: String,

    /// Debian mirror for debootstrap.
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,

    /// Rebuild even when a current image exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Shell completions on stdout.
    Completions { shell: clap_complete::Shell },
    /// The man page (roff) on stdout.
    Man,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("finsandbox").chain(args.iter().copied()))
    }

    fn batch(args: &[&str]) -> Box<BatchArgs> {
        match parse(args).expect("parses").command {
            Command::Batch(b) => b,
            other => panic!("not batch: {other:?}"),
        }
    }

    #[test]
    fn plain_batch_keeps_its_documented_form() {
        let b = batch(&["batch", "strategies/", "a.py", "--data", "m.parquet", "--jobs", "2"]);
        assert!(b.action.is_none());
        assert_eq!(b.inputs, [PathBuf::from("strategies/"), PathBuf::from("a.py")]);
        assert_eq!(b.data, Some(PathBuf::from("m.parquet")));
        assert!(parse(&["batch", "a.py"]).is_err(), "--data is still required");
        assert!(parse(&["batch", "--data", "m.parquet"]).is_err(), "a strategy is still required");
    }

    #[test]
    fn batch_subcommands_parse_without_the_plain_forms_requirements() {
        assert!(matches!(batch(&["batch", "status", "/r"]).action, Some(BatchAction::Status { .. })));
        assert!(matches!(batch(&["batch", "cancel", "/r"]).action, Some(BatchAction::Cancel { .. })));
        let b = batch(&["batch", "collect", "/r", "--out", "x.jsonl"]);
        assert!(matches!(b.action, Some(BatchAction::Collect { out: Some(_), .. })));
        let b = batch(&["batch", "submit", "s/", "--data", "m", "--run-dir", "/r", "--sbatch-arg=--partition=p"]);
        let Some(BatchAction::Submit(s)) = b.action else { panic!("submit") };
        assert_eq!(s.sbatch_args, ["--partition=p"]);
        assert_eq!((s.shard_size, s.jobs, s.array_parallel), (50, 1, None));
        assert!(matches!(batch(&["batch", "submit", "--resume", "/r"]).action, Some(BatchAction::Submit(_))));
    }

    #[test]
    fn submit_needs_inputs_or_resume_never_both() {
        assert!(parse(&["batch", "submit", "s/", "--data", "m"]).is_err(), "--run-dir is required");
        assert!(parse(&["batch", "submit", "--resume", "/r", "--data", "m"]).is_err());
        assert!(parse(&["batch", "submit", "s/", "--data", "m", "--run-dir", "/r", "--shard-size", "0"]).is_err());
    }
}
