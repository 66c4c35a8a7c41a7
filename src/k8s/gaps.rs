//! What Kubernetes cannot express exactly, declared instead of dropped.
//!
//! Each `docker run` protection finsandbox uses either has a Kubernetes
//! counterpart in the rendered spec or is a [`Gap`] here, with a stable id,
//! what is lost, and what still covers it. Rendering refuses unless every gap
//! is accepted in config (`k8s.accept_gaps`), so a weaker spec is never
//! produced silently; accepted gaps travel with the output (an annotation,
//! the YAML header, `hardening.gaps` under `--json`).

use serde::Serialize;

use crate::error::ConfigError;

/// The config key that accepts gaps.
pub const ACCEPT_KEY: &str = "k8s.accept_gaps";
/// The annotation listing the gaps on the Pod or Job.
pub const ANNOTATION: &str = "finsandbox.dev/hardening-gaps";

/// One protection the rendered spec cannot keep as `docker run` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub id: &'static str,
    /// The `docker run` protection that is lost.
    pub docker: &'static str,
    /// What Kubernetes offers instead, and why it is not the same.
    pub kubernetes: &'static str,
    /// What still stands in its place.
    pub covered_by: &'static str,
}

pub const NETWORK_NONE: Gap = Gap {
    id: "network_none",
    docker: "--network none (no interface but loopback)",
    kubernetes: "every Pod gets a network namespace with an interface; the rendered deny-all NetworkPolicy \
                 only holds where the CNI enforces NetworkPolicy",
    covered_by: "deny-all NetworkPolicy (Ingress and Egress), dnsPolicy None with a loopback nameserver, \
                 no service account token, the harness's runtime policy (socket calls refused in process), \
                 and gVisor when --runtime-class is given",
};

pub const PIDS_LIMIT: Gap = Gap {
    id: "pids_limit",
    docker: "--pids-limit (per container)",
    kubernetes: "no per-Pod field: the limit is the kubelet's node-wide podPidsLimit",
    covered_by: "RLIMIT_NPROC set by the launcher before the harness starts, the runtime policy \
                 (no subprocess, fork or exec from the strategy), the memory limit",
};

pub const TMPFS_NOEXEC: Gap = Gap {
    id: "tmpfs_noexec",
    docker: "--tmpfs /tmp:noexec,nosuid,nodev",
    kubernetes: "an emptyDir with medium Memory takes no mount options",
    covered_by: "allowPrivilegeEscalation false (setuid bits do nothing), all capabilities dropped \
                 (no device nodes), the runtime policy (no exec from the strategy), read-only root",
};

pub const MEMORY_SWAP: Gap = Gap {
    id: "memory_swap",
    docker: "--memory-swap equal to --memory (no swap)",
    kubernetes: "no per-container swap field; requests = limits make the Pod Guaranteed, which gets no \
                 swap under the kubelet's LimitedSwap, but swap is the node's setting",
    covered_by: "requests = limits for memory on every container (Guaranteed QoS)",
};

pub const LOG_SIZE: Gap = Gap {
    id: "log_size",
    docker: "--log-driver none (the engine keeps no log)",
    kubernetes: "the kubelet keeps every container's stdout/stderr, rotated by the node's containerLogMaxSize",
    covered_by: "the harness's frames go to a size-limited volume, not the log; RLIMIT_FSIZE and the \
                 ephemeral-storage limit bound what the container writes",
};

pub const SERVICE_ENV: Gap = Gap {
    id: "service_env",
    docker: "no host environment (only HOME, LANG, PYTHONDONTWRITEBYTECODE and the native thread counts)",
    kubernetes: "KUBERNETES_SERVICE_HOST/PORT are injected into every container even with \
                 enableServiceLinks false",
    covered_by: "no network (above) and no service account token: the API server's address is all it learns",
};

pub const DATA_TABLES_ONLY: Gap = Gap {
    id: "data_tables_only",
    docker: "only the `*.parquet` tables of --data, staged per run under a neutral path",
    kubernetes: "the claim (or its --data-subpath) is mounted as it is: every file in it is visible",
    covered_by: "the mount is read-only and holds no host path; keep only the tables in the claim or the subPath",
};

pub const RUNTIME_MONITOR: Gap = Gap {
    id: "runtime_monitor",
    docker: "the host's monitor (docker stats windows: memory, pids, CPU) kills a misbehaving run",
    kubernetes: "no host process watches the Pod",
    covered_by: "the cgroup limits themselves (memory, CPU quota, requests = limits), the launcher's \
                 backstop timeout and the Pod's activeDeadlineSeconds",
};

/// Asked for when the config names an OCI runtime (`docker.runtime`) and no
/// `--runtime-class` says which RuntimeClass stands for it.
pub const RUNTIME_CLASS: Gap = Gap {
    id: "runtime_class",
    docker: "--runtime (docker.runtime in config)",
    kubernetes: "the Pod runs on the cluster's default runtime unless --runtime-class names one",
    covered_by: "nothing: pass --runtime-class (e.g. gvisor) to close it",
};

/// A batch rendered for a version where the per-index backoff is beta.
pub const PER_INDEX_BETA: Gap = Gap {
    id: "per_index_backoff_beta",
    docker: "`batch` runs every strategy whatever the others did",
    kubernetes: "backoffLimitPerIndex and maxFailedIndexes are beta before 1.33: a cluster with the \
                 JobBackoffLimitPerIndex gate off drops them, and pod failures then count against the \
                 Job's backoffLimit",
    covered_by: "a strategy's failure is not a pod failure (the launcher exits 0, the scorer reports the \
                 strategy's status); only infrastructure failures (deadline, eviction) fail a pod",
};

/// Every gap the renderer knows, for validating `k8s.accept_gaps`.
pub const ALL: &[Gap] = &[
    NETWORK_NONE,
    PIDS_LIMIT,
    TMPFS_NOEXEC,
    MEMORY_SWAP,
    LOG_SIZE,
    SERVICE_ENV,
    DATA_TABLES_ONLY,
    RUNTIME_MONITOR,
    RUNTIME_CLASS,
    PER_INDEX_BETA,
];

/// The gaps of every render.
pub const ALWAYS: &[Gap] =
    &[NETWORK_NONE, PIDS_LIMIT, TMPFS_NOEXEC, MEMORY_SWAP, LOG_SIZE, SERVICE_ENV, DATA_TABLES_ONLY, RUNTIME_MONITOR];

/// What decides which gaps a render has besides the ones every spec has.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// `docker.runtime` from the config.
    pub config_runtime: Option<&'a str>,
    pub runtime_class: Option<&'a str>,
    pub batch: bool,
    pub version: super::version::Version,
}

/// The gaps of a render: the ones every spec has, `runtime_class` when the
/// config names a runtime the flags did not map, and the beta per-index
/// backoff for a batch on an older version.
pub fn of(f: Facts) -> Vec<Gap> {
    let mut v = ALWAYS.to_vec();
    if f.config_runtime.is_some() && f.runtime_class.is_none() {
        v.push(RUNTIME_CLASS);
    }
    if f.batch && !f.version.per_index_ga() {
        v.push(PER_INDEX_BETA);
    }
    v
}

/// Refuse unless each gap is accepted; refuse unknown ids in the list too
/// (a misspelt id must not look like an acceptance).
pub fn check(gaps: &[Gap], accepted: &[String], origin: &str) -> Result<(), ConfigError> {
    if let Some(bad) = accepted.iter().find(|a| !ALL.iter().any(|g| g.id == a.as_str())) {
        let known: Vec<&str> = ALL.iter().map(|g| g.id).collect();
        return Err(ConfigError::Value {
            key: ACCEPT_KEY.into(),
            origin: origin.into(),
            message: format!("`{bad}` is not a gap id (known: {})", known.join(", ")),
        });
    }
    let missing: Vec<String> =
        gaps.iter().filter(|g| !accepted.iter().any(|a| a == g.id)).map(|g| g.id.to_string()).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::UnacceptedGaps { gaps: missing, key: ACCEPT_KEY })
    }
}

/// The ids, comma-separated (the annotation's value).
pub fn ids(gaps: &[Gap]) -> String {
    gaps.iter().map(|g| g.id).collect::<Vec<_>>().join(",")
}
