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

use serde::Deserialize;

use crate::error::ConfigError;
use crate::screen::Policy;

/// Every environment variable finsandbox reads, in one place.
pub mod env {
    pub const CONFIG: &str = "FINSANDBOX_CONFIG";
    pub const ENGINE: &str = "FINSANDBOX_ENGINE";
    pub const IMAGE: &str = "FINSANDBOX_IMAGE";
    pub const NO_COLOR: &str = "NO_COLOR";

    /// (preferred name, older name used by the Python design's users)
    pub const ENABLED: (&str, &str) = ("FINSANDBOX_ENABLED", "DOCKER_SANDBOX_ENABLED");
    pub const MEMORY: (&str, &str) = ("FINSANDBOX_MEMORY_LIMIT", "DOCKER_MEMORY_LIMIT");
    pub const CPUS: (&str, &str) = ("FINSANDBOX_CPU_LIMIT", "DOCKER_CPU_LIMIT");
    pub const TIMEOUT: (&str, &str) = ("FINSANDBOX_TIMEOUT", "DOCKER_TIMEOUT");
    pub const NETWORK: (&str, &str) = ("FINSANDBOX_NETWORK_MODE", "DOCKER_NETWORK_MODE");
    pub const READ_ONLY: (&str, &str) = ("FINSANDBOX_READ_ONLY", "DOCKER_READ_ONLY");
}

/// The default image tag; bumped with [`crate::image::RECIPE_VERSION`].
pub const DEFAULT_IMAGE: &str = "finsandbox-runtime:1";
pub const DEFAULT_CONFIG_FILE: &str = "config/docker_config.yaml";
pub const DEFAULT_SECCOMP: &str = "seccomp/finsandbox.json";

/// The config file as written: every field optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub docker: Option<DockerSection>,
    pub screening: Option<ScreeningSection>,
    pub cleanup: Option<CleanupSection>,
    pub monitoring: Option<MonitoringSection>,
    pub scoring: Option<ScoringSection>,
}

/// The host's trading costs. A strategy's `sim(fee_ratio=...)` may raise them
/// but never lower them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringSection {
    pub fee_ratio: Option<f64>,
    pub tax_ratio: Option<f64>,
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

/// Command-line flags that override configuration.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub image: Option<String>,
    pub memory: Option<String>,
    pub cpus: Option<f64>,
    pub timeout_seconds: Option<u64>,
    pub network: Option<String>,
    pub read_only: Option<bool>,
    pub pids_limit: Option<u32>,
    pub seccomp_profile: Option<String>,
    pub runtime: Option<String>,
    pub keep_container: bool,
    pub allow_insecure: bool,
}

/// Where a value came from, for error messages and the swap rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Default,
    File,
    Env,
    Flag,
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
    pub timeout_seconds: u64,
    pub network_mode: String,
    pub read_only: bool,
    pub pids_limit: u32,
    pub tmpfs: Tmpfs,
    pub seccomp_profile: PathBuf,
    pub cleanup_on_exit: bool,
    pub runtime: Option<String>,
    pub output_limit_bytes: u64,
    pub screening: Policy,
    pub monitoring: crate::monitor::Limits,
    pub fee_ratio: f64,
    pub tax_ratio: f64,
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
            timeout_seconds: 600,
            network_mode: "none".into(),
            read_only: true,
            pids_limit: 100,
            tmpfs: Tmpfs { path: "/tmp".into(), size_bytes: 1 << 30, options: "rw,noexec,nosuid,nodev".into() },
            seccomp_profile: PathBuf::from(DEFAULT_SECCOMP),
            cleanup_on_exit: true,
            runtime: None,
            output_limit_bytes: 1 << 20,
            screening: Policy::default(),
            monitoring: crate::monitor::Limits::default(),
            fee_ratio: 1.425 / 1000.0,
            tax_ratio: 3.0 / 1000.0,
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

/// Which file to read, if any: explicit flag, then env, then the default path
/// when it exists (relative to `cwd`). An explicit path that is missing is an
/// error; a missing default is not.
pub fn config_path(flag: Option<&Path>, env: &EnvMap, cwd: &Path) -> Option<(PathBuf, bool)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), true));
    }
    if let Some(p) = env.get(env::CONFIG).filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    let default = cwd.join(DEFAULT_CONFIG_FILE);
    default.exists().then_some((default, false))
}

pub fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    serde_saphyr::from_str::<FileConfig>(text)
        .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })
}

/// Read and parse the config file chosen by [`config_path`].
pub fn load_file(flag: Option<&Path>, env: &EnvMap, cwd: &Path) -> Result<Option<(PathBuf, FileConfig)>, ConfigError> {
    let Some((path, _explicit)) = config_path(flag, env, cwd) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    let parsed = parse_file(&path, &text)?;
    Ok(Some((path, parsed)))
}

/// Combine the layers and validate the result.
///
/// `file` is the parsed config file with its path; relative paths inside it
/// (the seccomp profile) are resolved against the directory the file's
/// `config/` folder sits in, so a checkout works from any working directory.
pub fn resolve(
    file: Option<(&Path, &FileConfig)>,
    env: &EnvMap,
    flags: &Overrides,
    cwd: &Path,
) -> Result<Settings, ConfigError> {
    let mut s = Settings::default();
    let mut memory_layer = Layer::Default;
    let mut swap_layer = Layer::Default;
    let mut enabled = (true, Layer::Default);
    let mut seccomp_base = cwd.to_path_buf();
    let file_origin = file.map(|(p, _)| format!("config file `{}`", p.display()));

    // Layer 2: the file.
    if let Some((path, cfg)) = file {
        let origin = file_origin.clone().unwrap_or_default();
        if let Some(d) = &cfg.docker {
            if let Some(v) = d.enabled {
                enabled = (v, Layer::File);
            }
            if let Some(v) = &d.image {
                s.image = non_empty("docker.image", v, &origin)?;
            }
            if let Some(v) = &d.memory_limit {
                s.memory_bytes = parse_size("docker.memory_limit", v, &origin)?;
                memory_layer = Layer::File;
            }
            if let Some(v) = &d.memory_swap_limit {
                s.memory_swap_bytes = parse_size("docker.memory_swap_limit", v, &origin)?;
                swap_layer = Layer::File;
            }
            if let Some(v) = d.cpu_limit {
                s.cpus = v;
            }
            if let Some(v) = d.timeout_seconds {
                s.timeout_seconds = v;
            }
            if let Some(v) = &d.network_mode {
                s.network_mode = v.clone();
            }
            if let Some(v) = d.read_only {
                s.read_only = v;
            }
            if let Some(v) = d.pids_limit {
                s.pids_limit = v;
            }
            if let Some(t) = &d.tmpfs {
                if let Some(v) = &t.path {
                    s.tmpfs.path = v.clone();
                }
                if let Some(v) = &t.size {
                    s.tmpfs.size_bytes = parse_size("docker.tmpfs.size", v, &origin)?;
                }
                if let Some(v) = &t.options {
                    s.tmpfs.options = v.clone();
                }
            }
            if let Some(v) = &d.seccomp_profile {
                s.seccomp_profile = PathBuf::from(v);
                // A path written in the file is relative to the file's project.
                seccomp_base = project_root_of(path, cwd);
            }
            if let Some(v) = d.cleanup_on_exit {
                s.cleanup_on_exit = v;
            }
            if let Some(v) = &d.runtime {
                s.runtime = Some(v.clone()).filter(|r| !r.is_empty());
            }
            if let Some(v) = d.output_limit_bytes {
                s.output_limit_bytes = v;
            }
        }
    }

    if let Some((path, cfg)) = file {
        s.screening = resolve_screening(Some((path, cfg)))?;
        if let Some(sc) = &cfg.scoring {
            let origin = file_origin.clone().unwrap_or_default();
            for (key, v, slot) in [
                ("scoring.fee_ratio", sc.fee_ratio, &mut s.fee_ratio),
                ("scoring.tax_ratio", sc.tax_ratio, &mut s.tax_ratio),
            ] {
                if let Some(x) = v {
                    if !(x.is_finite() && (0.0..0.5).contains(&x)) {
                        return Err(value_err(key, &origin, format!("`{x}` must be a fraction between 0 and 0.5")));
                    }
                    *slot = x;
                }
            }
        }
        if let Some(m) = &cfg.monitoring {
            s.monitoring = resolve_monitoring(m, &file_origin.clone().unwrap_or_default())?;
        }
        if let Some(c) = &cfg.cleanup {
            s.sweep_on_start = c.sweep_on_start.unwrap_or(s.sweep_on_start);
            s.alert_on_orphaned_containers = c.alert_on_orphaned_containers.unwrap_or(s.alert_on_orphaned_containers);
            s.cleanup_grace_seconds = c.grace_seconds.unwrap_or(s.cleanup_grace_seconds);
        }
    }

    // Layer 3: the environment.
    if let Some((name, v)) = lookup(env, env::ENABLED) {
        enabled = (parse_bool(name, v)?, Layer::Env);
    }
    if let Some((name, v)) = lookup(env, env::MEMORY) {
        s.memory_bytes = parse_size(name, v, "environment")?;
        memory_layer = Layer::Env;
    }
    if let Some((name, v)) = lookup(env, env::CPUS) {
        s.cpus = v.trim().parse().map_err(|_| value_err(name, "environment", format!("`{v}` is not a number")))?;
    }
    if let Some((name, v)) = lookup(env, env::TIMEOUT) {
        s.timeout_seconds = v
            .trim()
            .parse()
            .map_err(|_| value_err(name, "environment", format!("`{v}` is not a whole number of seconds")))?;
    }
    if let Some((_, v)) = lookup(env, env::NETWORK) {
        s.network_mode = v.trim().to_string();
    }
    if let Some((name, v)) = lookup(env, env::READ_ONLY) {
        s.read_only = parse_bool(name, v)?;
    }
    if let Some(v) = env.get(env::IMAGE).filter(|v| !v.is_empty()) {
        s.image = v.clone();
    }

    // Layer 4: flags.
    if let Some(v) = &flags.image {
        s.image = non_empty("--image", v, "command line")?;
    }
    if let Some(v) = &flags.memory {
        s.memory_bytes = parse_size("--memory", v, "command line")?;
        memory_layer = Layer::Flag;
    }
    if let Some(v) = flags.cpus {
        s.cpus = v;
    }
    if let Some(v) = flags.timeout_seconds {
        s.timeout_seconds = v;
    }
    if let Some(v) = &flags.network {
        s.network_mode = v.clone();
    }
    if let Some(v) = flags.read_only {
        s.read_only = v;
    }
    if let Some(v) = flags.pids_limit {
        s.pids_limit = v;
    }
    if let Some(v) = &flags.seccomp_profile {
        s.seccomp_profile = PathBuf::from(v);
        seccomp_base = cwd.to_path_buf();
    }
    if let Some(v) = &flags.runtime {
        s.runtime = Some(v.clone()).filter(|r| !r.is_empty());
    }
    if flags.keep_container {
        s.cleanup_on_exit = false;
    }

    if swap_layer < memory_layer {
        s.memory_swap_bytes = s.memory_bytes;
    }
    if s.seccomp_profile.is_relative() {
        s.seccomp_profile = seccomp_base.join(&s.seccomp_profile);
    }

    if !enabled.0 {
        let origin = match enabled.1 {
            Layer::File => file_origin.unwrap_or_default(),
            _ => "environment".into(),
        };
        return Err(ConfigError::Disabled { origin });
    }
    validate(&mut s, flags.allow_insecure)?;
    Ok(s)
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

fn validate(s: &mut Settings, allow_insecure: bool) -> Result<(), ConfigError> {
    const MIN_MEMORY: u64 = 16 << 20;
    if s.memory_bytes < MIN_MEMORY {
        return Err(value_err(
            "memory_limit",
            "resolved",
            format!("{} bytes is below the 16 MiB minimum", s.memory_bytes),
        ));
    }
    if s.memory_swap_bytes < s.memory_bytes {
        return Err(value_err(
            "memory_swap_limit",
            "resolved",
            "must be at least memory_limit (equal means no swap)".into(),
        ));
    }
    if !(s.cpus.is_finite() && s.cpus > 0.0 && s.cpus <= 1024.0) {
        return Err(value_err("cpu_limit", "resolved", format!("`{}` must be a positive number of CPUs", s.cpus)));
    }
    if s.timeout_seconds == 0 || s.timeout_seconds > 7 * 24 * 3600 {
        return Err(value_err("timeout_seconds", "resolved", "must be between 1 second and 7 days".into()));
    }
    if s.pids_limit < 8 {
        return Err(value_err(
            "pids_limit",
            "resolved",
            "must be at least 8 (Python and its BLAS threads need a few)".into(),
        ));
    }
    if s.tmpfs.size_bytes == 0 {
        return Err(value_err("tmpfs.size", "resolved", "must be greater than zero".into()));
    }
    if !s.tmpfs.path.starts_with('/') || s.tmpfs.path.contains([',', ':']) {
        return Err(value_err(
            "tmpfs.path",
            "resolved",
            format!("`{}` must be an absolute path without `,` or `:`", s.tmpfs.path),
        ));
    }
    if s.tmpfs.options.split(',').any(|o| o.trim().starts_with("size=")) {
        return Err(value_err(
            "tmpfs.options",
            "resolved",
            "set the size with `tmpfs.size`, not in the options".into(),
        ));
    }
    if s.output_limit_bytes < 1024 {
        return Err(value_err("output_limit_bytes", "resolved", "must be at least 1024".into()));
    }

    let mut weakened = Vec::new();
    if s.network_mode != "none" {
        weakened.push(format!("network_mode is `{}`, not `none`", s.network_mode));
    }
    if !s.read_only {
        weakened.push("read_only is false: the container's root filesystem is writable".to_string());
    }
    if s.memory_swap_bytes > s.memory_bytes {
        weakened.push("memory_swap_limit exceeds memory_limit: the container may swap".to_string());
    }
    let opts: Vec<&str> = s.tmpfs.options.split(',').map(str::trim).collect();
    for needed in ["noexec", "nosuid", "nodev"] {
        if !opts.contains(&needed) {
            weakened.push(format!("tmpfs options lack `{needed}`"));
        }
    }
    if s.seccomp_profile.as_os_str() == "unconfined" {
        weakened.push("seccomp_profile is `unconfined`".to_string());
    }
    for m in &s.screening.allowed_imports {
        let root = m.split('.').next().unwrap_or(m);
        if crate::screen::is_dangerous_module(root) {
            weakened.push(format!("screening.allowed_imports allows `{m}`"));
        }
    }
    if !weakened.is_empty() && !allow_insecure {
        return Err(ConfigError::Insecure { reasons: weakened });
    }
    s.insecure_reasons = weakened;
    Ok(())
}

fn resolve_monitoring(m: &MonitoringSection, origin: &str) -> Result<crate::monitor::Limits, ConfigError> {
    let mut l = crate::monitor::Limits::default();
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
    if let Some(p) = m.max_pids {
        if p == 0 {
            return Err(value_err("monitoring.max_pids", origin, "must be at least 1".into()));
        }
        l.max_pids = p;
    }
    Ok(l)
}

/// The screening policy from the file's `screening:` section (defaults for
/// anything absent). `validate` uses this alone: it needs no sandbox settings.
pub fn resolve_screening(file: Option<(&Path, &FileConfig)>) -> Result<Policy, ConfigError> {
    let mut p = Policy::default();
    let Some((path, cfg)) = file else { return Ok(p) };
    let origin = format!("config file `{}`", path.display());
    let Some(sc) = &cfg.screening else { return Ok(p) };
    if let Some(list) = &sc.allowed_imports {
        for m in list {
            let ok = !m.is_empty()
                && m.split('.').all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_alphanumeric() || c == '_'));
            if !ok {
                return Err(value_err("screening.allowed_imports", &origin, format!("`{m}` is not a module name")));
            }
        }
        p.allowed_imports = list.clone();
    }
    if let Some(v) = sc.max_source_bytes {
        if v == 0 || v > 16 << 20 {
            return Err(value_err("screening.max_source_bytes", &origin, "must be between 1 and 16 MiB".into()));
        }
        p.max_source_bytes = v;
    }
    if let Some(v) = sc.max_nesting {
        if !(4..=200).contains(&v) {
            return Err(value_err("screening.max_nesting", &origin, "must be between 4 and 200".into()));
        }
        p.max_nesting = v;
    }
    Ok(p)
}

fn lookup<'a>(env: &'a EnvMap, names: (&'static str, &'static str)) -> Option<(&'static str, &'a str)> {
    for name in [names.0, names.1] {
        if let Some(v) = env.get(name).filter(|v| !v.trim().is_empty()) {
            return Some((name, v.as_str()));
        }
    }
    None
}

fn value_err(key: &str, origin: &str, message: String) -> ConfigError {
    ConfigError::Value { key: key.to_string(), origin: origin.to_string(), message }
}

fn non_empty(key: &str, v: &str, origin: &str) -> Result<String, ConfigError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(value_err(key, origin, "must not be empty".into()));
    }
    Ok(t.to_string())
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(value_err(key, "environment", format!("`{v}` is not a boolean (true/false, 1/0, yes/no)"))),
    }
}

/// Parse a Docker-style size: `2g`, `512m`, `512MiB`, `1073741824`.
/// Units are binary (k = 1024), as Docker treats them.
pub fn parse_size(key: &str, v: &str, origin: &str) -> Result<u64, ConfigError> {
    let t = v.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(value_err(key, origin, format!("unknown size unit `{other}` in `{v}` (use b, k, m, g)"))),
    };
    let n: f64 =
        num.parse().map_err(|_| value_err(key, origin, format!("`{v}` is not a size such as `512m` or `2g`")))?;
    let bytes = n * mult as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > (u64::MAX / 2) as f64 {
        return Err(value_err(key, origin, format!("`{v}` is out of range")));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn file(yaml: &str) -> FileConfig {
        parse_file(Path::new("test.yaml"), yaml).expect("valid yaml")
    }

    fn resolve_with(yaml: Option<&str>, e: &[(&str, &str)], flags: Overrides) -> Result<Settings, ConfigError> {
        let f = yaml.map(file);
        let path = Path::new("/proj/config/docker_config.yaml");
        resolve(f.as_ref().map(|f| (path, f)), &env(e), &flags, Path::new("/cwd"))
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = resolve_with(None, &[], Overrides::default()).expect("defaults valid");
        assert_eq!(s.memory_bytes, 2 << 30);
        assert_eq!(s.memory_swap_bytes, s.memory_bytes);
        assert_eq!(s.cpus, 0.5);
        assert_eq!(s.timeout_seconds, 600);
        assert_eq!(s.network_mode, "none");
        assert!(s.read_only);
        assert_eq!(s.pids_limit, 100);
        assert_eq!(s.tmpfs.size_bytes, 1 << 30);
        assert_eq!(s.tmpfs.options, "rw,noexec,nosuid,nodev");
        assert_eq!(s.seccomp_profile, PathBuf::from("/cwd/seccomp/finsandbox.json"));
        assert!(s.insecure_reasons.is_empty());
    }

    #[test]
    fn memory_file_over_default() {
        let s = resolve_with(Some("docker:\n  memory_limit: 1g\n"), &[], Overrides::default()).expect("ok");
        assert_eq!(s.memory_bytes, 1 << 30);
    }

    #[test]
    fn memory_env_over_file() {
        let s = resolve_with(
            Some("docker:\n  memory_limit: 1g\n"),
            &[("DOCKER_MEMORY_LIMIT", "512m")],
            Overrides::default(),
        )
        .expect("ok");
        assert_eq!(s.memory_bytes, 512 << 20);
    }

    #[test]
    fn memory_flag_over_env() {
        let flags = Overrides { memory: Some("256m".into()), ..Default::default() };
        let s = resolve_with(None, &[("DOCKER_MEMORY_LIMIT", "512m")], flags).expect("ok");
        assert_eq!(s.memory_bytes, 256 << 20);
    }

    #[test]
    fn finsandbox_env_name_over_docker_env_name() {
        let s =
            resolve_with(None, &[("DOCKER_CPU_LIMIT", "1.5"), ("FINSANDBOX_CPU_LIMIT", "0.25")], Overrides::default())
                .expect("ok");
        assert_eq!(s.cpus, 0.25);
    }

    #[test]
    fn timeout_env_over_file_and_flag_over_env() {
        let yaml = Some("docker:\n  timeout_seconds: 100\n");
        let s = resolve_with(yaml, &[("DOCKER_TIMEOUT", "50")], Overrides::default()).expect("ok");
        assert_eq!(s.timeout_seconds, 50);
        let flags = Overrides { timeout_seconds: Some(7), ..Default::default() };
        let s = resolve_with(yaml, &[("DOCKER_TIMEOUT", "50")], flags).expect("ok");
        assert_eq!(s.timeout_seconds, 7);
    }

    #[test]
    fn cpu_file_over_default() {
        let s = resolve_with(Some("docker:\n  cpu_limit: 1.5\n"), &[], Overrides::default()).expect("ok");
        assert_eq!(s.cpus, 1.5);
    }

    #[test]
    fn swap_follows_memory_set_at_a_higher_layer() {
        let yaml = Some("docker:\n  memory_limit: 2g\n  memory_swap_limit: 2g\n");
        let flags = Overrides { memory: Some("256m".into()), ..Default::default() };
        let s = resolve_with(yaml, &[], flags).expect("ok");
        assert_eq!(s.memory_swap_bytes, 256 << 20, "swap must follow memory so no swap appears");
    }

    #[test]
    fn swap_above_memory_is_insecure() {
        let yaml = Some("docker:\n  memory_limit: 1g\n  memory_swap_limit: 2g\n");
        let err = resolve_with(yaml, &[], Overrides::default()).expect_err("swap refused");
        assert!(matches!(err, ConfigError::Insecure { .. }), "{err}");
    }

    #[test]
    fn swap_below_memory_is_an_error() {
        let yaml = Some("docker:\n  memory_limit: 1g\n  memory_swap_limit: 512m\n");
        let err = resolve_with(yaml, &[], Overrides::default()).expect_err("invalid");
        assert!(err.to_string().contains("memory_swap_limit"), "{err}");
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let err = parse_file(Path::new("cfg.yaml"), "docker:\n  memory_limt: 1g\n").expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("memory_limt"), "{msg}");
        assert!(msg.contains("cfg.yaml"), "{msg}");
    }

    #[test]
    fn unknown_top_level_section_is_an_error() {
        let err = parse_file(Path::new("cfg.yaml"), "dockr:\n  enabled: true\n").expect_err("unknown section");
        assert!(err.to_string().contains("dockr"), "{err}");
    }

    #[test]
    fn wrong_type_is_an_error() {
        let err = parse_file(Path::new("cfg.yaml"), "docker:\n  cpu_limit: lots\n").expect_err("type");
        assert!(err.to_string().contains("cfg.yaml"), "{err}");
    }

    #[test]
    fn disabled_in_file_is_refused_not_run_on_host() {
        let err = resolve_with(Some("docker:\n  enabled: false\n"), &[], Overrides::default()).expect_err("refused");
        assert!(matches!(err, ConfigError::Disabled { .. }));
        assert!(err.to_string().contains("never runs strategies outside"), "{err}");
    }

    #[test]
    fn disabled_by_env_is_refused() {
        let err =
            resolve_with(None, &[("DOCKER_SANDBOX_ENABLED", "false")], Overrides::default()).expect_err("refused");
        assert!(matches!(err, ConfigError::Disabled { .. }));
    }

    #[test]
    fn env_enable_beats_file_disable() {
        let s = resolve_with(Some("docker:\n  enabled: false\n"), &[("FINSANDBOX_ENABLED", "1")], Overrides::default());
        assert!(s.is_ok());
    }

    #[test]
    fn network_other_than_none_needs_allow_insecure() {
        let err = resolve_with(None, &[("DOCKER_NETWORK_MODE", "bridge")], Overrides::default()).expect_err("refused");
        assert!(matches!(err, ConfigError::Insecure { .. }));
        let flags = Overrides { allow_insecure: true, ..Default::default() };
        let s = resolve_with(None, &[("DOCKER_NETWORK_MODE", "bridge")], flags).expect("allowed");
        assert_eq!(s.insecure_reasons.len(), 1);
        assert!(s.insecure_reasons[0].contains("bridge"));
    }

    #[test]
    fn writable_root_needs_allow_insecure() {
        let err = resolve_with(None, &[("DOCKER_READ_ONLY", "false")], Overrides::default()).expect_err("refused");
        assert!(err.to_string().contains("read_only"), "{err}");
    }

    #[test]
    fn tmpfs_without_noexec_needs_allow_insecure() {
        let yaml = Some("docker:\n  tmpfs: { options: \"rw,nosuid,nodev\" }\n");
        let err = resolve_with(yaml, &[], Overrides::default()).expect_err("refused");
        assert!(err.to_string().contains("noexec"), "{err}");
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        let err = resolve_with(None, &[("DOCKER_TIMEOUT", "soon")], Overrides::default()).expect_err("bad");
        assert!(err.to_string().contains("DOCKER_TIMEOUT"), "{err}");
        let err = resolve_with(None, &[("DOCKER_READ_ONLY", "maybe")], Overrides::default()).expect_err("bad");
        assert!(err.to_string().contains("DOCKER_READ_ONLY"), "{err}");
    }

    #[test]
    fn limits_out_of_range_are_errors() {
        for (yaml, key) in [
            ("docker:\n  cpu_limit: 0\n", "cpu_limit"),
            ("docker:\n  timeout_seconds: 0\n", "timeout_seconds"),
            ("docker:\n  pids_limit: 0\n", "pids_limit"),
            ("docker:\n  memory_limit: 1m\n", "memory_limit"),
        ] {
            let err = resolve_with(Some(yaml), &[], Overrides::default()).expect_err(yaml);
            assert!(err.to_string().contains(key), "{yaml}: {err}");
        }
    }

    #[test]
    fn seccomp_path_relative_to_project_of_config_file() {
        let s =
            resolve_with(Some("docker:\n  seccomp_profile: seccomp/x.json\n"), &[], Overrides::default()).expect("ok");
        assert_eq!(s.seccomp_profile, PathBuf::from("/proj/seccomp/x.json"));
    }

    #[test]
    fn monitoring_file_over_default() {
        let s = resolve_with(
            Some("monitoring:\n  max_cpu_percent: 50\n  cpu_window_seconds: 2\n"),
            &[],
            Overrides::default(),
        )
        .expect("ok");
        assert_eq!(s.monitoring.max_cpu_percent, 50.0);
        assert_eq!(s.monitoring.cpu_window_seconds, 2.0);
        assert_eq!(s.monitoring.max_pids, 90);
        assert!(resolve_with(Some("monitoring:\n  max_cpu_percent: -1\n"), &[], Overrides::default()).is_err());
    }

    #[test]
    fn cleanup_file_over_default() {
        let s = resolve_with(
            Some("cleanup:\n  sweep_on_start: false\n  alert_on_orphaned_containers: 9\n"),
            &[],
            Overrides::default(),
        )
        .expect("ok");
        assert!(!s.sweep_on_start);
        assert_eq!(s.alert_on_orphaned_containers, 9);
        assert_eq!(s.cleanup_grace_seconds, 60);
    }

    #[test]
    fn screening_file_over_default() {
        let s = resolve_with(
            Some("screening:\n  allowed_imports: [pandas, numpy]\n  max_nesting: 10\n"),
            &[],
            Overrides::default(),
        )
        .expect("ok");
        assert_eq!(s.screening.allowed_imports, ["pandas", "numpy"]);
        assert_eq!(s.screening.max_nesting, 10);
        assert_eq!(s.screening.max_source_bytes, 256 * 1024);
    }

    #[test]
    fn allowing_a_dangerous_module_needs_allow_insecure() {
        let yaml = Some("screening:\n  allowed_imports: [pandas, os]\n");
        let err = resolve_with(yaml, &[], Overrides::default()).expect_err("refused");
        assert!(err.to_string().contains("`os`"), "{err}");
        let flags = Overrides { allow_insecure: true, ..Default::default() };
        assert!(resolve_with(yaml, &[], flags).is_ok());
    }

    #[test]
    fn bad_screening_values_are_errors() {
        for yaml in ["screening:\n  allowed_imports: ['os system']\n", "screening:\n  max_nesting: 1\n"] {
            assert!(resolve_with(Some(yaml), &[], Overrides::default()).is_err(), "{yaml}");
        }
        assert!(parse_file(Path::new("c.yaml"), "screening:\n  typo: 1\n").is_err());
    }

    #[test]
    fn seccomp_default_stays_relative_to_cwd_when_the_file_does_not_set_it() {
        let s = resolve_with(Some("cleanup:\n  sweep_on_start: false\n"), &[], Overrides::default()).expect("ok");
        assert_eq!(s.seccomp_profile, PathBuf::from("/cwd/seccomp/finsandbox.json"));
    }

    #[test]
    fn sizes_parse_like_docker() {
        assert_eq!(parse_size("k", "2g", "t").ok(), Some(2 << 30));
        assert_eq!(parse_size("k", "512m", "t").ok(), Some(512 << 20));
        assert_eq!(parse_size("k", "512MiB", "t").ok(), Some(512 << 20));
        assert_eq!(parse_size("k", "1.5g", "t").ok(), Some(3 << 29));
        assert_eq!(parse_size("k", "4096", "t").ok(), Some(4096));
        assert!(parse_size("k", "2x", "t").is_err());
        assert!(parse_size("k", "", "t").is_err());
        assert!(parse_size("k", "-1g", "t").is_err());
    }

    #[test]
    fn the_shipped_config_file_parses_and_matches_defaults() {
        let text = include_str!("../config/docker_config.yaml");
        let f = parse_file(Path::new("config/docker_config.yaml"), text).expect("shipped config parses");
        let s = resolve(
            Some((Path::new("/p/config/docker_config.yaml"), &f)),
            &EnvMap::new(),
            &Overrides::default(),
            Path::new("/p"),
        )
        .expect("shipped config valid");
        let d = resolve(None, &EnvMap::new(), &Overrides::default(), Path::new("/p")).expect("defaults");
        assert_eq!(s, d, "config/docker_config.yaml must restate the built-in defaults");
    }
}
