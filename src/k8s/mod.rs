//! Kubernetes: render what runs a strategy (a Pod) or a batch (an Indexed
//! Job) on a cluster, with every protection of the local `docker run` either
//! kept or declared.
//!
//! finsandbox does not talk to a cluster: `k8s render` prints objects for
//! `kubectl apply`. The pipeline is the local one's front half (read, prepare
//! and screen the source: a rejected strategy is never rendered), then
//! [`gaps`] (what Kubernetes cannot express, refused unless accepted in
//! `k8s.accept_gaps`), then [`render`] (pure functions over the settings),
//! then [`output`] (YAML with a header, a JSON `List`, or finsandbox's own
//! `--json` document with `hardening.gaps`).
//!
//! `model` holds the typed objects; `manifest` reads a batch's strategy list;
//! `version` the Kubernetes versions rendered and validated; `score` the
//! trusted scorer container's command (`k8s score`); `limits` the sizes
//! render and score share.

use std::path::Path;

use crate::config::Settings;
use crate::error::{Error, InputError};

pub mod gaps;
pub mod limits;
pub mod manifest;
pub mod model;
pub mod output;
pub mod render;
pub mod score;
pub mod version;

#[cfg(test)]
mod invariants;
#[cfg(test)]
mod tests;

pub use render::{Options, Rendered};
pub use version::Version;

/// The init container's entry point (trusted; see the file).
pub const LAUNCHER: &str = include_str!("launch.py");

/// A strategy ready to render: screened, the code that runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    /// The file name the strategy's tracebacks show.
    pub filename: String,
    pub source: String,
}

/// Read and prepare a strategy as `exec` does (notebooks, magics) and screen
/// it; a strategy with findings is refused (exit 11), never rendered.
/// `sha256`, when the manifest recorded one, must match the file. Returns
/// the preparation's warnings too (a notebook's dropped magics), for the
/// caller to show.
pub fn load(path: &Path, s: &Settings, sha256: Option<&str>) -> Result<(Strategy, Vec<String>), Error> {
    if let Some(want) = sha256 {
        let raw = crate::run::read_strategy(path)?;
        let got = crate::host::hex_sha256(raw.as_bytes());
        if !got.eq_ignore_ascii_case(want.trim()) {
            return Err(InputError::Manifest {
                path: path.to_path_buf(),
                message: format!("sha256 is {got}, the manifest says {want}: the strategy changed since"),
            }
            .into());
        }
    }
    let prepared = crate::run::load_source(path)?;
    let findings = crate::screen::screen(prepared.code.as_bytes(), &s.screening);
    if !findings.is_empty() {
        let summary: Vec<String> =
            findings.iter().map(|f| format!("{} line {}: {}", f.rule.id(), f.line, f.message)).collect();
        return Err(Error::Rejected { path: path.to_path_buf(), findings: summary });
    }
    let filename =
        path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "strategy.py".to_string());
    Ok((Strategy { filename, source: prepared.code }, prepared.warnings))
}

/// What the user asked for: one strategy or a batch.
pub enum Input<'a> {
    Single(&'a Strategy),
    Batch(&'a [Strategy]),
}

/// Check the gaps against `accepted`, then render. `accepted_origin` names
/// where the acceptance came from, for error messages.
pub fn render(
    s: &Settings,
    o: &Options,
    input: Input,
    accepted: &[String],
    accepted_origin: &str,
) -> Result<Rendered, Error> {
    let found = gaps::of(gaps::Facts {
        config_runtime: s.runtime.as_deref(),
        runtime_class: o.runtime_class.as_deref(),
        batch: matches!(input, Input::Batch(_)),
        version: o.version,
    });
    gaps::check(&found, accepted, accepted_origin)?;
    let rendered = match input {
        Input::Single(st) => render::single(s, o, st, &found),
        Input::Batch(all) => render::batch(s, o, all, &found),
    };
    rendered.map_err(|e| {
        let message = match e {
            render::TooBig::ConfigMap { bytes } => format!(
                "the strategies and harness come to {bytes} bytes, over the {} a ConfigMap may hold; split the batch",
                limits::MAX_CONFIGMAP_BYTES
            ),
            render::TooBig::Completions { count } => {
                format!("{count} strategies: an Indexed Job with per-index backoff holds 1 to 100000")
            }
        };
        Error::from(InputError::Manifest { path: "the rendered objects".into(), message })
    })
}
