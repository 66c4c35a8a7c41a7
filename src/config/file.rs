//! The config file: where it is looked for, how it is parsed (every field
//! optional, unknown keys refused with the key and the file named), and the
//! [`Layer`] it contributes.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::layer::Layer;
use super::validate::{non_empty, parse_size, value_err};
use super::{env, EnvMap, MonitorSettings, DEFAULT_CONFIG_FILE};
use crate::error::ConfigError;

/// The config file as written: every field optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub docker: Option<DockerSection>,
    pub screening: Option<ScreeningSection>,
    pub cleanup: Option<CleanupSection>,
    pub monitoring: Option<MonitoringSection>,
    pub scoring: Option<ScoringSection>,
    pub metrics: Option<MetricsSection>,
    pub audit: Option<AuditSection>,
    pub k8s: Option<K8sSection>,
}

/// `finsandbox k8s render`: what Kubernetes may leave out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sSection {
    /// Gap ids (`pids_limit`, `tmpfs_noexec`, ...) accepted one by one;
    /// rendering refuses while a gap of the render is not listed.
    pub accept_gaps: Option<Vec<String>>,
}

/// Prometheus metrics without a daemon (`--metrics-textfile`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// node_exporter's textfile-collector directory: `finsandbox.prom` is
    /// rewritten there after each run.
    pub textfile_dir: Option<String>,
}

/// The audit log (`--audit-log`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// One JSON line per run is appended to this file.
    pub log: Option<String>,
}

/// The host's trading costs. A strategy's `sim(fee_ratio=...)` may raise them
/// but never lower them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringSection {
    pub fee_ratio: Option<f64>,
    pub tax_ratio: Option<f64>,
    /// Fewer trading days than this: annualised metrics are null.
    pub min_window_days: Option<usize>,
}

/// The runtime monitor's policy (`docker stats`); names and defaults are the
/// earlier Python design's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSection {
    pub enabled: Option<bool>,
    pub max_cpu_percent: Option<f64>,
    pub cpu_window_seconds: Option<f64>,
    pub max_memory_percent: Option<f64>,
    pub memory_window_seconds: Option<f64>,
    pub max_pids: Option<u64>,
    pub combined_percent: Option<f64>,
    /// `warn` (default) or `kill`: what the CPU rules do.
    pub cpu_action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanupSection {
    /// Remove orphaned containers of ours at the start of every `exec`.
    pub sweep_on_start: Option<bool>,
    /// Warn when a sweep finds more orphans than this.
    pub alert_on_orphaned_containers: Option<usize>,
    /// Seconds past a container's own timeout before it counts as orphaned.
    pub grace_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningSection {
    /// Replaces the default allow-list (it does not extend it).
    pub allowed_imports: Option<Vec<String>>,
    pub max_source_bytes: Option<usize>,
    pub max_nesting: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerSection {
    pub enabled: Option<bool>,
    pub image: Option<String>,
    pub memory_limit: Option<String>,
    pub memory_swap_limit: Option<String>,
    pub cpu_limit: Option<f64>,
    /// The CPU limit of the trusted warm-up (interpreter, imports, lockdown),
    /// tightened to `cpu_limit` before the strategy is sent. Default: the
    /// host's CPUs.
    pub startup_cpus: Option<f64>,
    pub timeout_seconds: Option<u64>,
    pub network_mode: Option<String>,
    pub read_only: Option<bool>,
    pub pids_limit: Option<u32>,
    pub tmpfs: Option<TmpfsSection>,
    pub seccomp_profile: Option<String>,
    pub cleanup_on_exit: Option<bool>,
    pub runtime: Option<String>,
    pub output_limit_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmpfsSection {
    pub path: Option<String>,
    pub size: Option<String>,
    pub options: Option<String>,
}

/// Where the system-wide config file lives.
pub const SYSTEM_CONFIG: &str = "/etc/finsandbox/config.yaml";
/// Config files are small; anything larger is a mistake.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The config file in use and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub path: PathBuf,
    /// `--config`, `FINSANDBOX_CONFIG`, `./finsandbox.yaml`, ...
    pub how: String,
    /// Named by the user: missing is an error, not "no file".
    pub explicit: bool,
}

/// Which file to read, if any, first found wins: `--config`, then
/// `FINSANDBOX_CONFIG`, then `./finsandbox.yaml`, `./config/docker_config.yaml`
/// (the checkout's), `$XDG_CONFIG_HOME/finsandbox/config.yaml` (else
/// `~/.config/...`), then `/etc/finsandbox/config.yaml`.
pub fn config_path(flag: Option<&Path>, env: &EnvMap, cwd: &Path) -> Option<Found> {
    config_path_in(flag, env, cwd, Path::new(SYSTEM_CONFIG))
}

/// [`config_path`] with the system file's location given (for tests).
pub fn config_path_in(flag: Option<&Path>, env: &EnvMap, cwd: &Path, system: &Path) -> Option<Found> {
    let found = |path: PathBuf, how: &str, explicit: bool| Some(Found { path, how: how.to_string(), explicit });
    if let Some(p) = flag {
        return found(p.to_path_buf(), "--config", true);
    }
    if let Some(p) = env.get(env::CONFIG).filter(|v| !v.is_empty()) {
        return found(PathBuf::from(p), env::CONFIG, true);
    }
    let xdg = env
        .get("XDG_CONFIG_HOME")
        .filter(|v| v.starts_with('/'))
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").filter(|v| v.starts_with('/')).map(|h| Path::new(h).join(".config")));
    let mut candidates = vec![
        (cwd.join("finsandbox.yaml"), "./finsandbox.yaml".to_string()),
        (cwd.join(DEFAULT_CONFIG_FILE), format!("./{DEFAULT_CONFIG_FILE}")),
    ];
    if let Some(x) = xdg {
        candidates.push((x.join("finsandbox/config.yaml"), "the user config directory".to_string()));
    }
    candidates.push((system.to_path_buf(), "the system config".to_string()));
    candidates.into_iter().find(|(p, _)| p.is_file()).and_then(|(p, how)| found(p, &how, false))
}

pub fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    serde_saphyr::from_str::<FileConfig>(text)
        .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })
}

/// Read and parse the config file chosen by [`config_path`]: a regular
/// file of at most 1 MiB (a FIFO or `/dev/zero` is refused at once).
pub fn load_file(flag: Option<&Path>, env: &EnvMap, cwd: &Path) -> Result<Option<(PathBuf, FileConfig)>, ConfigError> {
    let Some(found) = config_path(flag, env, cwd) else {
        return Ok(None);
    };
    load_found(&found).map(|f| Some((found.path, f)))
}

/// Read and parse a file [`config_path`] found.
pub fn load_found(found: &Found) -> Result<FileConfig, ConfigError> {
    let path = &found.path;
    let bytes = crate::fsread::read_regular(path, MAX_CONFIG_BYTES)
        .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    let text =
        String::from_utf8(bytes).map_err(|_| ConfigError::Parse { path: path.clone(), message: "not UTF-8".into() })?;
    parse_file(path, &text)
}

/// The directory holding `config/`, `seccomp/`: the parent of the config
/// file's folder when that folder is named `config`, else the file's folder.
fn project_root_of(config_file: &Path, cwd: &Path) -> PathBuf {
    let abs = if config_file.is_absolute() { config_file.to_path_buf() } else { cwd.join(config_file) };
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or_else(|| cwd.to_path_buf());
    if dir.file_name().is_some_and(|n| n == "config") {
        dir.parent().map(Path::to_path_buf).unwrap_or(dir)
    } else {
        dir
    }
}

impl Layer {
    /// The layer a parsed config file contributes. Relative paths in it (the
    /// seccomp profile) are resolved against the file's project, so a
    /// checkout works from any working directory.
    pub fn from_file(path: &Path, cfg: &FileConfig, cwd: &Path) -> Result<Layer, ConfigError> {
        let origin = format!("config file `{}`", path.display());
        let mut l = Layer::default();
        if let Some(d) = &cfg.docker {
            l.enabled = d.enabled;
            l.image = d.image.as_deref().map(|v| non_empty("docker.image", v, &origin)).transpose()?;
            l.memory_bytes =
                d.memory_limit.as_deref().map(|v| parse_size("docker.memory_limit", v, &origin)).transpose()?;
            l.memory_swap_bytes = d
                .memory_swap_limit
                .as_deref()
                .map(|v| parse_size("docker.memory_swap_limit", v, &origin))
                .transpose()?;
            l.cpus = d.cpu_limit;
            l.startup_cpus = d.startup_cpus;
            l.timeout_seconds = d.timeout_seconds;
            l.network_mode = d.network_mode.clone();
            l.read_only = d.read_only;
            l.pids_limit = d.pids_limit;
            if let Some(t) = &d.tmpfs {
                l.tmpfs_path = t.path.clone();
                l.tmpfs_size_bytes =
                    t.size.as_deref().map(|v| parse_size("docker.tmpfs.size", v, &origin)).transpose()?;
                l.tmpfs_options = t.options.clone();
            }
            l.seccomp_profile =
                d.seccomp_profile.as_deref().map(|v| super::profile_path(v, &project_root_of(path, cwd)));
            l.cleanup_on_exit = d.cleanup_on_exit;
            l.runtime = d.runtime.clone();
            l.output_limit_bytes = d.output_limit_bytes;
        }
        if let Some(sc) = &cfg.screening {
            screening_layer(sc, &origin, &mut l)?;
        }
        if let Some(sc) = &cfg.scoring {
            for (key, v, slot) in [
                ("scoring.fee_ratio", sc.fee_ratio, &mut l.fee_ratio),
                ("scoring.tax_ratio", sc.tax_ratio, &mut l.tax_ratio),
            ] {
                if let Some(x) = v {
                    if !(x.is_finite() && (0.0..0.5).contains(&x)) {
                        return Err(value_err(key, &origin, format!("`{x}` must be a fraction between 0 and 0.5")));
                    }
                    *slot = Some(x);
                }
            }
        }
        if let Some(w) = cfg.scoring.as_ref().and_then(|sc| sc.min_window_days) {
            if w > 100_000 {
                return Err(value_err(
                    "scoring.min_window_days",
                    &origin,
                    format!("`{w}` is not a number of trading days"),
                ));
            }
            l.min_window_days = Some(w);
        }
        // Relative paths are the file's project's, like the seccomp profile.
        let root = project_root_of(path, cwd);
        if let Some(d) = cfg.metrics.as_ref().and_then(|m| m.textfile_dir.as_deref()) {
            l.metrics_textfile_dir = Some(root.join(non_empty("metrics.textfile_dir", d, &origin)?));
        }
        if let Some(a) = cfg.audit.as_ref().and_then(|a| a.log.as_deref()) {
            l.audit_log = Some(root.join(non_empty("audit.log", a, &origin)?));
        }
        if let Some(list) = cfg.k8s.as_ref().and_then(|k| k.accept_gaps.as_ref()) {
            l.k8s_accept_gaps = Some(super::validate::gap_ids("k8s.accept_gaps", list, &origin)?);
        }
        if let Some(m) = &cfg.monitoring {
            l.monitoring = Some(monitoring_settings(m, &origin)?);
        }
        if let Some(c) = &cfg.cleanup {
            l.sweep_on_start = c.sweep_on_start;
            l.alert_on_orphaned_containers = c.alert_on_orphaned_containers;
            l.cleanup_grace_seconds = c.grace_seconds;
        }
        l.mark_origin(&origin);
        Ok(l)
    }
}

/// Only the `screening:` section, for `validate`, which needs no sandbox.
pub fn screening_layer_of(path: &Path, cfg: &FileConfig) -> Result<Layer, ConfigError> {
    let mut l = Layer::default();
    if let Some(sc) = &cfg.screening {
        screening_layer(sc, &format!("config file `{}`", path.display()), &mut l)?;
    }
    Ok(l)
}

fn screening_layer(sc: &ScreeningSection, origin: &str, l: &mut Layer) -> Result<(), ConfigError> {
    if let Some(list) = &sc.allowed_imports {
        for m in list {
            let ok = !m.is_empty()
                && m.split('.').all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_alphanumeric() || c == '_'));
            if !ok {
                return Err(value_err("screening.allowed_imports", origin, format!("`{m}` is not a module name")));
            }
        }
        l.allowed_imports = Some(list.clone());
    }
    if let Some(v) = sc.max_source_bytes {
        if v == 0 || v > 16 << 20 {
            return Err(value_err("screening.max_source_bytes", origin, "must be between 1 and 16 MiB".into()));
        }
        l.max_source_bytes = Some(v);
    }
    if let Some(v) = sc.max_nesting {
        if !(4..=200).contains(&v) {
            return Err(value_err("screening.max_nesting", origin, "must be between 4 and 200".into()));
        }
        l.max_nesting = Some(v);
    }
    Ok(())
}

fn monitoring_settings(m: &MonitoringSection, origin: &str) -> Result<MonitorSettings, ConfigError> {
    let mut l = MonitorSettings::default();
    let percent = |key: &str, v: Option<f64>, default: f64| -> Result<f64, ConfigError> {
        match v {
            None => Ok(default),
            Some(x) if x.is_finite() && x > 0.0 && x <= 1000.0 => Ok(x),
            Some(x) => Err(value_err(key, origin, format!("`{x}` must be a percentage between 0 and 1000"))),
        }
    };
    let window = |key: &str, v: Option<f64>, default: f64| -> Result<f64, ConfigError> {
        match v {
            None => Ok(default),
            Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
            Some(x) => Err(value_err(key, origin, format!("`{x}` must be a number of seconds, zero or more"))),
        }
    };
    l.enabled = m.enabled.unwrap_or(l.enabled);
    l.max_cpu_percent = percent("monitoring.max_cpu_percent", m.max_cpu_percent, l.max_cpu_percent)?;
    l.cpu_window_seconds = window("monitoring.cpu_window_seconds", m.cpu_window_seconds, l.cpu_window_seconds)?;
    l.max_memory_percent = percent("monitoring.max_memory_percent", m.max_memory_percent, l.max_memory_percent)?;
    l.memory_window_seconds =
        window("monitoring.memory_window_seconds", m.memory_window_seconds, l.memory_window_seconds)?;
    l.combined_percent = percent("monitoring.combined_percent", m.combined_percent, l.combined_percent)?;
    match m.cpu_action.as_deref() {
        None | Some("warn") => l.cpu_kills = false,
        Some("kill") => l.cpu_kills = true,
        Some(other) => {
            return Err(value_err("monitoring.cpu_action", origin, format!("`{other}` is not `warn` or `kill`")))
        }
    }
    if let Some(p) = m.max_pids {
        if p == 0 {
            return Err(value_err("monitoring.max_pids", origin, "must be at least 1".into()));
        }
        l.max_pids = p;
    }
    Ok(l)
}
