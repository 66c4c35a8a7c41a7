//! One layer of settings, every field optional, and how layers combine
//! (imitating uv's `Combine`): `flags.combine(env).combine(file)` keeps, field
//! by field, the value of the highest layer that set it; the built-in
//! defaults fill the rest ([`Layer::apply`]). Each source builds its own
//! layer (`from_file`, `from_env`, `from_flags`), so no source is walked
//! twice and the checks run once, on the result.

use std::path::{Path, PathBuf};

use super::{MonitorSettings, Settings};
use crate::error::ConfigError;

macro_rules! layer {
    ($($(#[$doc:meta])* $field:ident : $ty:ty),* $(,)?) => {
        /// Settings one source sets; `None` is "this source says nothing".
        #[derive(Debug, Default, Clone, PartialEq)]
        pub struct Layer {
            $($(#[$doc])* pub $field: Option<$ty>,)*
            /// Where each set value came from (a file, a variable, a flag).
            pub origin: std::collections::BTreeMap<&'static str, String>,
        }

        impl Layer {
            /// `self` is the higher layer: its values win where it has them.
            pub fn combine(self, lower: Layer) -> Layer {
                let mut origin = lower.origin;
                origin.extend(self.origin);
                Layer { $($field: self.$field.or(lower.$field),)* origin }
            }

            /// The names of the settings this layer sets (for reporting
            /// where each effective value came from).
            pub fn set_fields(&self) -> Vec<&'static str> {
                let mut v = Vec::new();
                $(if self.$field.is_some() { v.push(stringify!($field)); })*
                v
            }
        }
    };
}

layer! {
    enabled: bool,
    image: String,
    memory_bytes: u64,
    memory_swap_bytes: u64,
    cpus: f64,
    startup_cpus: f64,
    timeout_seconds: u64,
    network_mode: String,
    read_only: bool,
    pids_limit: u32,
    tmpfs_path: String,
    tmpfs_size_bytes: u64,
    tmpfs_options: String,
    seccomp_profile: PathBuf,
    cleanup_on_exit: bool,
    /// `Some("")` resets a lower layer's runtime to the engine's default.
    runtime: String,
    output_limit_bytes: u64,
    allowed_imports: Vec<String>,
    max_source_bytes: usize,
    max_nesting: usize,
    monitoring: MonitorSettings,
    fee_ratio: f64,
    tax_ratio: f64,
    min_window_days: usize,
    sweep_on_start: bool,
    alert_on_orphaned_containers: usize,
    cleanup_grace_seconds: u64,
    /// Where results are reported, not how runs run: kept out of
    /// [`Settings`] (and so out of `provenance.config_sha256`); see
    /// [`super::Observe`].
    metrics_textfile_dir: PathBuf,
    audit_log: PathBuf,
    /// `k8s.accept_gaps`: changes what `k8s render` may emit, not what a
    /// local run does, so it is kept out of [`Settings`] too; see
    /// [`super::K8sSettings`].
    k8s_accept_gaps: Vec<String>,
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
    pub metrics_textfile_dir: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
}

impl Layer {
    /// Name `origin` as the source of every value set and not yet named.
    pub fn mark_origin(&mut self, origin: &str) {
        for f in self.set_fields() {
            self.origin.entry(f).or_insert_with(|| origin.to_string());
        }
    }

    /// The flags' layer; a profile path given on the command line is
    /// relative to the working directory.
    pub fn from_flags(f: &Overrides, cwd: &Path) -> Result<Layer, ConfigError> {
        const ORIGIN: &str = "command line";
        let mut l = Layer {
            image: f.image.as_deref().map(|v| super::validate::non_empty("--image", v, ORIGIN)).transpose()?,
            memory_bytes: f.memory.as_deref().map(|v| super::parse_size("--memory", v, ORIGIN)).transpose()?,
            cpus: f.cpus,
            timeout_seconds: f.timeout_seconds,
            network_mode: f.network.clone(),
            read_only: f.read_only,
            pids_limit: f.pids_limit,
            seccomp_profile: f.seccomp_profile.as_deref().map(|v| super::profile_path(v, cwd)),
            runtime: f.runtime.clone(),
            cleanup_on_exit: f.keep_container.then_some(false),
            metrics_textfile_dir: f.metrics_textfile_dir.as_ref().map(|p| cwd.join(p)),
            audit_log: f.audit_log.as_ref().map(|p| cwd.join(p)),
            ..Layer::default()
        };
        l.mark_origin(ORIGIN);
        Ok(l)
    }

    /// The settings: this (combined) layer over the built-in defaults.
    /// `memory_swap_bytes` unset means "the same as memory": no swap.
    pub fn apply(self, d: Settings) -> Settings {
        let memory_bytes = self.memory_bytes.unwrap_or(d.memory_bytes);
        Settings {
            image: self.image.unwrap_or(d.image),
            memory_bytes,
            memory_swap_bytes: self.memory_swap_bytes.unwrap_or(memory_bytes),
            cpus: self.cpus.unwrap_or(d.cpus),
            startup_cpus: self.startup_cpus.or(d.startup_cpus),
            timeout_seconds: self.timeout_seconds.unwrap_or(d.timeout_seconds),
            network_mode: self.network_mode.unwrap_or(d.network_mode),
            read_only: self.read_only.unwrap_or(d.read_only),
            pids_limit: self.pids_limit.unwrap_or(d.pids_limit),
            tmpfs: super::Tmpfs {
                path: self.tmpfs_path.unwrap_or(d.tmpfs.path),
                size_bytes: self.tmpfs_size_bytes.unwrap_or(d.tmpfs.size_bytes),
                options: self.tmpfs_options.unwrap_or(d.tmpfs.options),
            },
            seccomp_profile: self.seccomp_profile.unwrap_or(d.seccomp_profile),
            // Loaded by `resolve` once the profile is known.
            seccomp_json: d.seccomp_json,
            cleanup_on_exit: self.cleanup_on_exit.unwrap_or(d.cleanup_on_exit),
            runtime: match self.runtime {
                Some(r) => Some(r).filter(|r| !r.is_empty()),
                None => d.runtime,
            },
            output_limit_bytes: self.output_limit_bytes.unwrap_or(d.output_limit_bytes),
            screening: crate::screen::Policy {
                allowed_imports: self.allowed_imports.unwrap_or(d.screening.allowed_imports),
                max_source_bytes: self.max_source_bytes.unwrap_or(d.screening.max_source_bytes),
                max_nesting: self.max_nesting.unwrap_or(d.screening.max_nesting),
            },
            monitoring: self.monitoring.unwrap_or(d.monitoring),
            fee_ratio: self.fee_ratio.unwrap_or(d.fee_ratio),
            tax_ratio: self.tax_ratio.unwrap_or(d.tax_ratio),
            min_window_days: self.min_window_days.unwrap_or(d.min_window_days),
            sweep_on_start: self.sweep_on_start.unwrap_or(d.sweep_on_start),
            alert_on_orphaned_containers: self.alert_on_orphaned_containers.unwrap_or(d.alert_on_orphaned_containers),
            cleanup_grace_seconds: self.cleanup_grace_seconds.unwrap_or(d.cleanup_grace_seconds),
            insecure_reasons: d.insecure_reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_higher_layer_wins_field_by_field() {
        let high = Layer { cpus: Some(2.0), ..Layer::default() };
        let low = Layer { cpus: Some(1.0), timeout_seconds: Some(9), ..Layer::default() };
        let c = high.combine(low);
        assert_eq!((c.cpus, c.timeout_seconds), (Some(2.0), Some(9)));
        assert_eq!(c.set_fields(), ["cpus", "timeout_seconds"]);
    }

    #[test]
    fn origins_follow_the_winning_value() {
        let mut high = Layer { cpus: Some(2.0), ..Layer::default() };
        high.mark_origin("command line");
        let mut low = Layer { cpus: Some(1.0), timeout_seconds: Some(9), ..Layer::default() };
        low.mark_origin("config file `c.yaml`");
        let c = high.combine(low);
        assert_eq!(c.origin.get("cpus").map(String::as_str), Some("command line"));
        assert_eq!(c.origin.get("timeout_seconds").map(String::as_str), Some("config file `c.yaml`"));
    }
}
