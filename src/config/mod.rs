//! The sandbox configuration and how its layers combine.
//!
//! Precedence, lowest to highest:
//!
//! 1. built-in defaults ([`Settings::default`]);
//! 2. the config file: `--config PATH`, else `FINSANDBOX_CONFIG`, else
//!    `config/docker_config.yaml` when it exists in the working directory;
//! 3. environment variables ([`env`]): `FINSANDBOX_*` beats the older
//!    `DOCKER_*` spelling of the same setting;
//! 4. command-line flags ([`Overrides`]).
//!
//! Each source builds one all-`Option` [`Layer`] (`file.rs`, `environment.rs`,
//! `layer.rs` for flags); [`resolve`] combines them and checks the result
//! once (`validate.rs`).
//!
//! The environment is passed in as a map, never read here, so every rule is a
//! plain unit test. Unknown keys in the file are errors naming the key and the
//! file: a misspelt limit must not silently fall back to a default.
//!
//! `memory_swap_limit` follows `memory_limit` unless it was set at the same
//! layer or a higher one, so `--memory 256m` alone never turns swap on.
//! A relative `seccomp_profile` written in the file is resolved against the
//! file's project (the parent of its `config/` folder); otherwise against the
//! working directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::ConfigError;
use crate::screen::Policy;

mod environment;
mod file;
mod layer;
mod validate;

pub use environment::names as env;
pub use file::{
    config_path, config_path_in, load_file, load_found, parse_file, AuditSection, CleanupSection, DockerSection,
    FileConfig, Found, K8sSection, MetricsSection, MonitoringSection, ScoringSection, ScreeningSection, TmpfsSection,
    MAX_CONFIG_BYTES, SYSTEM_CONFIG,
};
pub use layer::{Layer, Overrides};
pub use validate::{parse_size, K8S_GAP_IDS};

/// The default image tag; bumped with [`crate::image::RECIPE_VERSION`].
pub const DEFAULT_IMAGE: &str = "finsandbox-runtime:1";
pub const DEFAULT_CONFIG_FILE: &str = "config/docker_config.yaml";
/// The embedded, measured profile ([`crate::seccomp::EMBEDDED`]).
pub const DEFAULT_SECCOMP: &str = crate::seccomp::BUILTIN;
/// Taiwan's brokerage fee (0.1425 %) and securities transaction tax (0.3 %):
/// the host's trading costs unless the config says otherwise.
pub const DEFAULT_FEE_RATIO: f64 = 1.425 / 1000.0;
pub const DEFAULT_TAX_RATIO: f64 = 3.0 / 1000.0;

/// The runtime monitor's policy (`docker stats`); names and defaults are the
/// earlier Python design's.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSettings {
    pub enabled: bool,
    pub max_cpu_percent: f64,
    pub cpu_window_seconds: f64,
    pub max_memory_percent: f64,
    pub memory_window_seconds: f64,
    pub max_pids: u64,
    /// Both CPU and memory above this in one sample.
    pub combined_percent: f64,
    /// Whether the CPU rules kill (`cpu_action: kill`) or only warn and
    /// record (`warn`, the default).
    pub cpu_kills: bool,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            enabled: true,
            max_cpu_percent: 95.0,
            cpu_window_seconds: 15.0,
            max_memory_percent: 95.0,
            memory_window_seconds: 10.0,
            max_pids: 90,
            combined_percent: 80.0,
            cpu_kills: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tmpfs {
    pub path: String,
    pub size_bytes: u64,
    pub options: String,
}

/// The resolved, validated settings a run uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub image: String,
    pub memory_bytes: u64,
    pub memory_swap_bytes: u64,
    pub cpus: f64,
    /// The warm-up's CPU limit (`None`: the host's CPUs). Never a run at a
    /// higher limit than `cpus`: the host tightens it, verified, before the
    /// strategy is sent, or the run does not happen.
    pub startup_cpus: Option<f64>,
    pub timeout_seconds: u64,
    pub network_mode: String,
    pub read_only: bool,
    pub pids_limit: u32,
    pub tmpfs: Tmpfs,
    /// `builtin` (the embedded profile), `unconfined`, or a file.
    pub seccomp_profile: PathBuf,
    /// The profile's JSON as judged, and as the run will use it (never read
    /// twice, so what was checked is what runs); `None` when unconfined.
    pub seccomp_json: Option<String>,
    pub cleanup_on_exit: bool,
    pub runtime: Option<String>,
    pub output_limit_bytes: u64,
    pub screening: Policy,
    pub monitoring: MonitorSettings,
    pub fee_ratio: f64,
    pub tax_ratio: f64,
    /// Below this many trading days, annualised metrics are null.
    pub min_window_days: usize,
    pub sweep_on_start: bool,
    pub alert_on_orphaned_containers: usize,
    pub cleanup_grace_seconds: u64,
    /// Weakening settings the user accepted with `--allow-insecure`.
    pub insecure_reasons: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            image: DEFAULT_IMAGE.to_string(),
            memory_bytes: 2 << 30,
            memory_swap_bytes: 2 << 30,
            cpus: 0.5,
            startup_cpus: None,
            timeout_seconds: 600,
            network_mode: "none".into(),
            read_only: true,
            pids_limit: 100,
            tmpfs: Tmpfs { path: "/tmp".into(), size_bytes: 1 << 30, options: "rw,noexec,nosuid,nodev".into() },
            seccomp_profile: PathBuf::from(DEFAULT_SECCOMP),
            seccomp_json: Some(crate::seccomp::EMBEDDED.to_string()),
            cleanup_on_exit: true,
            runtime: None,
            output_limit_bytes: 1 << 20,
            screening: Policy::default(),
            monitoring: MonitorSettings::default(),
            fee_ratio: DEFAULT_FEE_RATIO,
            tax_ratio: DEFAULT_TAX_RATIO,
            min_window_days: crate::score::MIN_WINDOW_DAYS,
            sweep_on_start: true,
            alert_on_orphaned_containers: 3,
            cleanup_grace_seconds: 60,
            insecure_reasons: Vec::new(),
        }
    }
}

impl Settings {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }
}

pub type EnvMap = BTreeMap<String, String>;

/// The three layers as read, highest first when combined.
#[derive(Debug, Default, Clone)]
pub struct Layers {
    pub file: Layer,
    pub file_origin: Option<String>,
    pub env: Layer,
    pub flags: Layer,
}

impl Layers {
    pub fn read(
        file: Option<(&Path, &FileConfig)>,
        env: &EnvMap,
        flags: &Overrides,
        cwd: &Path,
    ) -> Result<Layers, ConfigError> {
        Ok(Layers {
            file: file.map(|(p, f)| Layer::from_file(p, f, cwd)).transpose()?.unwrap_or_default(),
            file_origin: file.map(|(p, _)| format!("config file `{}`", p.display())),
            env: Layer::from_env(env)?,
            flags: Layer::from_flags(flags, cwd)?,
        })
    }

    /// Highest first: flags, environment, file.
    fn ordered(&self) -> [&Layer; 3] {
        [&self.flags, &self.env, &self.file]
    }

    /// Combined, with the swap rule: `memory_swap_bytes` comes from the
    /// highest layer that set either it or the memory limit; a layer that
    /// set only the memory makes swap follow it (no swap).
    pub fn combined(&self) -> Layer {
        let swap = self
            .ordered()
            .iter()
            .find(|l| l.memory_swap_bytes.is_some() || l.memory_bytes.is_some())
            .and_then(|l| l.memory_swap_bytes);
        let mut c = self.flags.clone().combine(self.env.clone()).combine(self.file.clone());
        c.memory_swap_bytes = swap;
        c
    }

    /// `enabled: false` at the highest layer that speaks of it is an error:
    /// finsandbox never runs a strategy outside the sandbox.
    fn check_enabled(&self) -> Result<(), ConfigError> {
        if self.env.enabled == Some(false) {
            return Err(ConfigError::Disabled { origin: "environment".into() });
        }
        if self.env.enabled.is_none() && self.file.enabled == Some(false) {
            return Err(ConfigError::Disabled { origin: self.file_origin.clone().unwrap_or_default() });
        }
        Ok(())
    }
}

/// Where a command reports its runs, beside its output: the metrics
/// directory and the audit log. Kept apart from [`Settings`] on purpose: they
/// do not change what a run does, so they must not change the effective-config
/// hash in `provenance` (and `batch --resume` must not rerun strategies because
/// metrics were turned on).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observe {
    pub metrics_textfile_dir: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
}

/// The [`Observe`] settings, flags over environment over file.
pub fn resolve_observe(
    file: Option<(&Path, &FileConfig)>,
    env: &EnvMap,
    flags: &Overrides,
    cwd: &Path,
) -> Result<Observe, ConfigError> {
    let c = Layers::read(file, env, flags, cwd)?.combined();
    Ok(Observe { metrics_textfile_dir: c.metrics_textfile_dir, audit_log: c.audit_log })
}

/// What `k8s render` takes from the config beside [`Settings`]: the gaps
/// accepted, and where that list came from (for messages).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct K8sSettings {
    pub accept_gaps: Vec<String>,
    pub origin: String,
}

/// The [`K8sSettings`], environment over file (no flag sets them: accepting
/// a gap is a standing decision, written down).
pub fn resolve_k8s(file: Option<(&Path, &FileConfig)>, env: &EnvMap, cwd: &Path) -> Result<K8sSettings, ConfigError> {
    let c = Layers::read(file, env, &Overrides::default(), cwd)?.combined();
    Ok(K8sSettings {
        origin: c.origin.get("k8s_accept_gaps").cloned().unwrap_or_else(|| "default".into()),
        accept_gaps: c.k8s_accept_gaps.unwrap_or_default(),
    })
}

/// Combine the layers and validate the result.
pub fn resolve(
    file: Option<(&Path, &FileConfig)>,
    env: &EnvMap,
    flags: &Overrides,
    cwd: &Path,
) -> Result<Settings, ConfigError> {
    let layers = Layers::read(file, env, flags, cwd)?;
    layers.check_enabled()?;
    let mut s = layers.combined().apply(Settings::default());
    s.seccomp_profile = profile_path(&s.seccomp_profile.to_string_lossy(), cwd);
    s.seccomp_json = load_profile(&s.seccomp_profile)?;
    validate::validate(&mut s, flags.allow_insecure)?;
    Ok(s)
}

/// A profile path against its base directory; `builtin` and `unconfined`
/// are words, not paths.
fn profile_path(v: &str, base: &Path) -> PathBuf {
    let p = PathBuf::from(v);
    if v == crate::seccomp::BUILTIN || v == crate::seccomp::UNCONFINED || p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

/// The profile's text: embedded, none (unconfined), or read from the file
/// (a regular file of at most 1 MiB; anything else fails closed: an
/// unreadable profile must never mean "no profile").
fn load_profile(path: &Path) -> Result<Option<String>, ConfigError> {
    match path.to_str() {
        Some(crate::seccomp::BUILTIN) => return Ok(Some(crate::seccomp::EMBEDDED.to_string())),
        Some(crate::seccomp::UNCONFINED) => return Ok(None),
        _ => {}
    }
    let bad = |message: String| ConfigError::Seccomp { path: path.to_path_buf(), message };
    let bytes = crate::fsread::read_regular(path, crate::seccomp::MAX_PROFILE_BYTES)
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
    Ok(Some(text))
}

/// One effective setting, its value, and where it came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    pub key: &'static str,
    pub value: String,
    /// `default`, `config file `PATH``, `environment `VAR``, `command line`.
    pub origin: String,
}

/// Every effective setting with the layer that decided it (`config show`).
pub fn explain(
    file: Option<(&Path, &FileConfig)>,
    env: &EnvMap,
    flags: &Overrides,
    cwd: &Path,
) -> Result<Vec<Entry>, ConfigError> {
    let s = resolve(file, env, flags, cwd)?;
    let combined = Layers::read(file, env, flags, cwd)?.combined();
    let origin = |key: &str| combined.origin.get(key).cloned().unwrap_or_else(|| "default".to_string());
    let path_or = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "none".into());
    let mut all = entries(&s);
    all.push(("metrics_textfile_dir", path_or(&combined.metrics_textfile_dir)));
    all.push(("audit_log", path_or(&combined.audit_log)));
    all.push(("k8s_accept_gaps", combined.k8s_accept_gaps.as_ref().map_or_else(|| "none".into(), |g| g.join(","))));
    Ok(all
        .into_iter()
        .map(|(key, value)| {
            // Swap follows memory when no layer set it.
            let o = if key == "memory_swap_bytes" && combined.memory_swap_bytes.is_none() {
                format!("follows memory_bytes ({})", origin("memory_bytes"))
            } else {
                origin(key)
            };
            Entry { key, value, origin: o }
        })
        .collect())
}

/// The settings as (layer field name, value) pairs.
fn entries(s: &Settings) -> Vec<(&'static str, String)> {
    let m = &s.monitoring;
    vec![
        ("image", s.image.clone()),
        ("memory_bytes", s.memory_bytes.to_string()),
        ("memory_swap_bytes", s.memory_swap_bytes.to_string()),
        ("cpus", s.cpus.to_string()),
        ("startup_cpus", s.startup_cpus.map(|c| c.to_string()).unwrap_or_else(|| "the host's CPUs".into())),
        ("timeout_seconds", s.timeout_seconds.to_string()),
        ("network_mode", s.network_mode.clone()),
        ("read_only", s.read_only.to_string()),
        ("pids_limit", s.pids_limit.to_string()),
        ("tmpfs_path", s.tmpfs.path.clone()),
        ("tmpfs_size_bytes", s.tmpfs.size_bytes.to_string()),
        ("tmpfs_options", s.tmpfs.options.clone()),
        ("seccomp_profile", s.seccomp_profile.display().to_string()),
        ("cleanup_on_exit", s.cleanup_on_exit.to_string()),
        ("runtime", s.runtime.clone().unwrap_or_else(|| "engine default".into())),
        ("output_limit_bytes", s.output_limit_bytes.to_string()),
        ("allowed_imports", s.screening.allowed_imports.join(",")),
        ("max_source_bytes", s.screening.max_source_bytes.to_string()),
        ("max_nesting", s.screening.max_nesting.to_string()),
        (
            "monitoring",
            format!(
                "enabled={} cpu={}%/{}s ({}) memory={}%/{}s pids={} combined={}%",
                m.enabled,
                m.max_cpu_percent,
                m.cpu_window_seconds,
                if m.cpu_kills { "kill" } else { "warn" },
                m.max_memory_percent,
                m.memory_window_seconds,
                m.max_pids,
                m.combined_percent
            ),
        ),
        ("fee_ratio", s.fee_ratio.to_string()),
        ("tax_ratio", s.tax_ratio.to_string()),
        ("min_window_days", s.min_window_days.to_string()),
        ("sweep_on_start", s.sweep_on_start.to_string()),
        ("alert_on_orphaned_containers", s.alert_on_orphaned_containers.to_string()),
        ("cleanup_grace_seconds", s.cleanup_grace_seconds.to_string()),
    ]
}

/// The screening policy from the file's `screening:` section (defaults for
/// anything absent). `validate` uses this alone: it needs no sandbox settings.
pub fn resolve_screening(file: Option<(&Path, &FileConfig)>) -> Result<Policy, ConfigError> {
    let layer = file.map(|(p, f)| file::screening_layer_of(p, f)).transpose()?.unwrap_or_default();
    Ok(layer.apply(Settings::default()).screening)
}

#[cfg(test)]
mod tests;
