//! `finsandbox exec`'s arguments.

use std::path::PathBuf;

use clap::Args;

pub(super) const EXEC_EXAMPLES: &str = "\
Examples:
  finsandbox exec examples/momentum.py --data examples/market.parquet
  finsandbox exec strategy.py --data market.parquet --json --timeout 60 --memory 1g
  DOCKER_MEMORY_LIMIT=512m finsandbox exec strategy.py --data market.parquet

Exit codes: 0 ok, 10 strategy error, 11 rejected, 12 timeout, 13 memory limit,
14 killed by policy, 15 invalid output, 3 engine unavailable or failed,
4 bad input file, 2 usage or config error, 1 internal error, 130/143 interrupted.";

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The strategy: a Python file defining `strategy(data)` or a finlab-style script.
    pub strategy: PathBuf,

    /// Market data: a Parquet file in long layout (date, symbol, fields...).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,

    #[command(flatten)]
    pub limits: super::LimitArgs,

    /// Maximum number of processes and threads in the container.
    #[arg(long, value_name = "N")]
    pub pids_limit: Option<u32>,

    /// Network mode; anything but `none` needs `--allow-insecure`.
    #[arg(long, value_name = "MODE")]
    pub network: Option<String>,

    /// Make the root filesystem writable (needs `--allow-insecure`).
    #[arg(long)]
    pub writable_root: bool,

    /// Seccomp profile (JSON file).
    #[arg(long, value_name = "PATH")]
    pub seccomp_profile: Option<String>,

    /// OCI runtime registered with the engine, e.g. `runsc`.
    #[arg(long, value_name = "NAME")]
    pub runtime: Option<String>,

    /// Accept weakened settings (network, writable root, swap); recorded in the result.
    #[arg(long)]
    pub allow_insecure: bool,

    /// Keep the stopped container for debugging instead of removing it.
    #[arg(long)]
    pub keep_container: bool,

    /// Skip source screening (to test the container layer); recorded in the result.
    #[arg(long)]
    pub skip_screening: bool,

    /// Run without the in-interpreter runtime policy (to test the layers below it); recorded in the result.
    #[arg(long, hide = true)]
    pub no_runtime_policy: bool,

    /// Run the escape self-test (a canary container) first; refuse to run if anything escapes.
    #[arg(long)]
    pub self_test: bool,

    /// Write the daily equity curve computed on the host (CSV, or Parquet for `*.parquet`).
    #[arg(long, value_name = "FILE")]
    pub equity_out: Option<PathBuf>,

    /// The strategy's pre-bound `start_date` (YYYY-MM-DD; default: the price data's first date).
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    pub start: Option<String>,

    /// The strategy's pre-bound `end_date` (YYYY-MM-DD; default: the price data's last date).
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    pub end: Option<String>,

    /// After the run, update the counters in DIR and rewrite `DIR/finsandbox.prom`
    /// (node_exporter's textfile collector; config `metrics.textfile_dir`).
    #[arg(long, value_name = "DIR")]
    pub metrics_textfile: Option<PathBuf>,

    /// Append one JSON line per run (provenance, verdict, user, host) to FILE (config `audit.log`).
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

/// `--start`/`--end`: a `YYYY-MM-DD` date, checked before anything runs.
pub(super) fn parse_date_arg(s: &str) -> Result<String, String> {
    match crate::score::parse_iso_date(s) {
        Some(_) if s.trim().len() == 10 => Ok(s.trim().to_string()),
        _ => Err(format!("`{s}` is not a YYYY-MM-DD date")),
    }
}
