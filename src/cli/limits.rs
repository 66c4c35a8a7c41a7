//! The limits every command that runs (or renders) a strategy takes: one
//! declaration, flattened into `exec`, `batch` and `k8s render`.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args, Default)]
pub struct LimitArgs {
    /// Config file (default: `FINSANDBOX_CONFIG`, `./finsandbox.yaml`,
    /// `./config/docker_config.yaml`, the user's, the system's; `config show` says which).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Sandbox image of the strategy's container.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,

    /// Memory limit per strategy, e.g. `512m`, `2g` (no swap: the same value; on Kubernetes requests = limits).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,

    /// CPU limit per strategy in CPUs, e.g. `0.5`.
    #[arg(long, value_name = "CPUS")]
    pub cpus: Option<f64>,

    /// Wall-clock limit per strategy, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}
