//! Checks on the combined settings, run once, and the value parsers the
//! layers share. Weakening the sandbox is refused unless `--allow-insecure`
//! was given, and then every reason is recorded in the result.

use super::Settings;
use crate::error::ConfigError;

pub(super) fn validate(s: &mut Settings, allow_insecure: bool) -> Result<(), ConfigError> {
    check_ranges(s)?;
    let weakened = weaknesses(s)?;
    if !weakened.is_empty() && !allow_insecure {
        return Err(ConfigError::Insecure { reasons: weakened });
    }
    s.insecure_reasons = weakened;
    Ok(())
}

/// Values no run can use, whatever `--allow-insecure` says.
fn check_ranges(s: &Settings) -> Result<(), ConfigError> {
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
    if let Some(c) = s.startup_cpus {
        if !(c.is_finite() && c > 0.0 && c <= 1024.0) {
            return Err(value_err("startup_cpus", "resolved", format!("`{c}` must be a positive number of CPUs")));
        }
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
    Ok(())
}

/// How these settings weaken the sandbox, judged by what each does: mount
/// options as the kernel reads them (the last of `exec`/`noexec` wins), the
/// seccomp profile by its rules, not its name.
fn weaknesses(s: &Settings) -> Result<Vec<String>, ConfigError> {
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
    for needed in ["noexec", "nosuid", "nodev"] {
        if !mount_flag_in_force(&s.tmpfs.options, needed) {
            weakened.push(format!("tmpfs options lack `{needed}` (as the kernel reads them: the last word wins)"));
        }
    }
    match &s.seccomp_json {
        None => weakened.push("seccomp_profile is `unconfined`".to_string()),
        Some(json) => weakened.extend(
            crate::seccomp::judge(json)
                .map_err(|message| ConfigError::Seccomp { path: s.seccomp_profile.clone(), message })?,
        ),
    }
    for m in &s.screening.allowed_imports {
        let root = m.split('.').next().unwrap_or(m);
        if crate::screen::is_dangerous_module(root) {
            weakened.push(format!("screening.allowed_imports allows `{m}`"));
        }
    }
    Ok(weakened)
}

/// Whether a flag such as `noexec` is in force in a mount option string:
/// options apply left to right, so a later `exec` undoes an earlier
/// `noexec`, and `defaults` resets all three to their permissive forms.
pub fn mount_flag_in_force(options: &str, flag: &str) -> bool {
    let Some(positive) = flag.strip_prefix("no") else { return false };
    let mut on = false;
    for o in options.split(',').map(str::trim) {
        if o == flag {
            on = true;
        } else if o == positive || o == "defaults" {
            on = false;
        }
    }
    on
}

/// The gap ids `k8s.accept_gaps` may name. What each one means is
/// `k8s::gaps::ALL` (a test there keeps the two lists equal); the config
/// sits below the renderer and only needs the names.
pub const K8S_GAP_IDS: &[&str] = &[
    "network_none",
    "pids_limit",
    "tmpfs_noexec",
    "memory_swap",
    "log_size",
    "service_env",
    "data_tables_only",
    "runtime_monitor",
    "runtime_class",
    "per_index_backoff_beta",
];

/// `k8s.accept_gaps`: each entry a gap id `k8s render` knows (a misspelt id
/// must not pass for an acceptance).
pub(super) fn gap_ids(key: &str, list: &[String], origin: &str) -> Result<Vec<String>, ConfigError> {
    if let Some(bad) = list.iter().find(|g| !K8S_GAP_IDS.contains(&g.trim())) {
        return Err(value_err(key, origin, format!("`{bad}` is not a gap id (known: {})", K8S_GAP_IDS.join(", "))));
    }
    Ok(list.iter().map(|g| g.trim().to_string()).collect())
}

pub(super) fn value_err(key: &str, origin: &str, message: String) -> ConfigError {
    ConfigError::Value { key: key.to_string(), origin: origin.to_string(), message }
}

pub(super) fn non_empty(key: &str, v: &str, origin: &str) -> Result<String, ConfigError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(value_err(key, origin, "must not be empty".into()));
    }
    Ok(t.to_string())
}

pub(super) fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
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
