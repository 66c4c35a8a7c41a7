//! The environment layer. Every variable finsandbox reads is named here, once
//! (imitating uv's `EnvVars`); the map is passed in, never read from the
//! process, so each precedence rule is a plain unit test.

use super::layer::Layer;
use super::validate::{parse_bool, parse_size, value_err};
use super::EnvMap;
use crate::error::ConfigError;

/// The variables.
pub mod names {
    pub const CONFIG: &str = "FINSANDBOX_CONFIG";
    pub const ENGINE: &str = "FINSANDBOX_ENGINE";
    pub const IMAGE: &str = "FINSANDBOX_IMAGE";
    pub const NO_COLOR: &str = "NO_COLOR";
    /// `k8s.accept_gaps`, comma-separated.
    pub const K8S_ACCEPT_GAPS: &str = "FINSANDBOX_K8S_ACCEPT_GAPS";

    /// (preferred name, older name used by the Python design's users)
    pub const ENABLED: (&str, &str) = ("FINSANDBOX_ENABLED", "DOCKER_SANDBOX_ENABLED");
    pub const MEMORY: (&str, &str) = ("FINSANDBOX_MEMORY_LIMIT", "DOCKER_MEMORY_LIMIT");
    pub const CPUS: (&str, &str) = ("FINSANDBOX_CPU_LIMIT", "DOCKER_CPU_LIMIT");
    pub const TIMEOUT: (&str, &str) = ("FINSANDBOX_TIMEOUT", "DOCKER_TIMEOUT");
    pub const NETWORK: (&str, &str) = ("FINSANDBOX_NETWORK_MODE", "DOCKER_NETWORK_MODE");
    pub const READ_ONLY: (&str, &str) = ("FINSANDBOX_READ_ONLY", "DOCKER_READ_ONLY");
}

use names::*;

impl Layer {
    /// `FINSANDBOX_*` beats the older `DOCKER_*` spelling of the same setting.
    pub fn from_env(env: &EnvMap) -> Result<Layer, ConfigError> {
        let mut l = Layer::default();
        let from = |l: &mut Layer, field: &'static str, name: &str| {
            l.origin.insert(field, format!("environment `{name}`"));
        };
        if let Some((name, v)) = lookup(env, ENABLED) {
            l.enabled = Some(parse_bool(name, v)?);
            from(&mut l, "enabled", name);
        }
        if let Some((name, v)) = lookup(env, MEMORY) {
            l.memory_bytes = Some(parse_size(name, v, "environment")?);
            from(&mut l, "memory_bytes", name);
        }
        if let Some((name, v)) = lookup(env, CPUS) {
            l.cpus =
                Some(v.trim().parse().map_err(|_| value_err(name, "environment", format!("`{v}` is not a number")))?);
            from(&mut l, "cpus", name);
        }
        if let Some((name, v)) = lookup(env, TIMEOUT) {
            l.timeout_seconds = Some(
                v.trim()
                    .parse()
                    .map_err(|_| value_err(name, "environment", format!("`{v}` is not a whole number of seconds")))?,
            );
            from(&mut l, "timeout_seconds", name);
        }
        if let Some((name, v)) = lookup(env, NETWORK) {
            l.network_mode = Some(v.trim().to_string());
            from(&mut l, "network_mode", name);
        }
        if let Some((name, v)) = lookup(env, READ_ONLY) {
            l.read_only = Some(parse_bool(name, v)?);
            from(&mut l, "read_only", name);
        }
        if let Some(v) = env.get(K8S_ACCEPT_GAPS).filter(|v| !v.trim().is_empty()) {
            let list: Vec<String> = v.split(',').map(|g| g.trim().to_string()).filter(|g| !g.is_empty()).collect();
            l.k8s_accept_gaps = Some(super::validate::gap_ids(K8S_ACCEPT_GAPS, &list, "environment")?);
            from(&mut l, "k8s_accept_gaps", K8S_ACCEPT_GAPS);
        }
        if let Some(v) = env.get(IMAGE).filter(|v| !v.is_empty()) {
            l.image = Some(v.clone());
            from(&mut l, "image", IMAGE);
        }
        Ok(l)
    }
}

fn lookup<'a>(env: &'a EnvMap, names: (&'static str, &'static str)) -> Option<(&'static str, &'a str)> {
    for name in [names.0, names.1] {
        if let Some(v) = env.get(name).filter(|v| !v.trim().is_empty()) {
            return Some((name, v.as_str()));
        }
    }
    None
}
