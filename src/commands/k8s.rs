//! `finsandbox k8s render`: the settings as for `exec`, the strategies read
//! and screened as for `exec`, then the Kubernetes objects (see
//! [`crate::k8s`]). Nothing is applied: the objects go to stdout.
//! `finsandbox k8s score`: the rendered Pod's trusted side (see
//! [`crate::k8s::score`]).

use std::path::Path;

use serde::Serialize;

use super::{current_dir, Context};
use crate::cli::{K8sOutput, K8sRenderArgs, K8sScoreArgs};
use crate::config::{self, Settings};
use crate::error::{code, Error, Result};
use crate::k8s::{self, manifest, output, Input, Options, Rendered, Strategy, Version};
use crate::printer::{CommandOutput, Render};
use crate::report::RunResult;

/// A render and its text in the format asked for (made up front: YAML
/// serialisation can fail, rendering text cannot).
pub struct K8sRender {
    rendered: Rendered,
    text: String,
}

impl Serialize for K8sRender {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        output::document(&self.rendered).serialize(s)
    }
}

impl Render for K8sRender {
    fn render_text(&self, _color: bool) -> String {
        self.text.clone()
    }
}

impl CommandOutput for K8sRender {
    fn exit_code(&self) -> i32 {
        code::OK
    }
}

pub fn render(ctx: &Context, args: &K8sRenderArgs) -> Result<K8sRender> {
    let version = Version::parse(&args.k8s_version)?;
    let (settings, _) = super::settings(ctx, args.limits.config.as_deref(), &super::limit_overrides(&args.limits))?;
    let cwd = current_dir()?;
    let file = config::load_file(args.limits.config.as_deref(), ctx.env, &cwd)?;
    let accepted = config::resolve_k8s(file.as_ref().map(|(p, f)| (p.as_path(), f)), ctx.env, &cwd)?;
    let options = Options {
        data_pvc: args.data_pvc.clone(),
        data_subpath: args.data_subpath.clone(),
        runtime_class: args.runtime_class.clone(),
        runtime_handler: args.runtime_handler.clone(),
        version,
        namespace: args.namespace.clone(),
        seccomp_localhost_profile: args.seccomp_localhost_profile.clone(),
        scorer_image: args.scorer_image.clone(),
        parallelism: args.parallelism,
    };
    let rendered = match (&args.strategy, &args.manifest) {
        (Some(path), _) => {
            let st = loaded(ctx, path, k8s::load(path, &settings, None)?);
            k8s::render(&settings, &options, Input::Single(&st), &accepted.accept_gaps, &accepted.origin)?
        }
        (None, Some(m)) => {
            let all = load_batch(ctx, m, &settings)?;
            k8s::render(&settings, &options, Input::Batch(&all), &accepted.accept_gaps, &accepted.origin)?
        }
        (None, None) => return Err(Error::Internal("clap lets neither a strategy nor --manifest through".into())),
    };
    let text = match args.output {
        K8sOutput::Yaml => output::yaml(&rendered).map_err(Error::Internal)?,
        K8sOutput::Json => format!("{:#}\n", output::json_list(&rendered)),
    };
    Ok(K8sRender { rendered, text })
}

/// `finsandbox k8s score`: the verdict and metrics of what the strategy
/// container left (see [`crate::k8s::score`]), also written as the
/// termination message.
pub fn score(ctx: &Context, args: &K8sScoreArgs) -> Result<RunResult> {
    let index = match args.index {
        Some(i) => Some(i),
        None => completion_index(ctx)?,
    };
    let inputs = k8s::score::Inputs { work: &args.work, config_dir: &args.config_dir, data: &args.data, index };
    let r = k8s::score::score(&inputs)?;
    k8s::score::write_termination_log(&args.termination_log, &r);
    Ok(r)
}

/// `JOB_COMPLETION_INDEX`, as the launcher reads it.
fn completion_index(ctx: &Context) -> Result<Option<usize>> {
    let Some(v) = ctx.env.get("JOB_COMPLETION_INDEX") else { return Ok(None) };
    v.trim().parse().map(Some).map_err(|_| {
        crate::error::ConfigError::Value {
            key: "JOB_COMPLETION_INDEX".into(),
            origin: "environment".into(),
            message: format!("`{v}` is not a completion index"),
        }
        .into()
    })
}

/// The strategy, its preparation's warnings shown (as `exec` records them).
fn loaded(ctx: &Context, path: &Path, (st, warnings): (Strategy, Vec<String>)) -> Strategy {
    for w in warnings {
        ctx.printer.warn(&format!("{}: {w}", path.display()));
    }
    st
}

/// Every strategy of the manifest, screened; all rejections are reported
/// together (nothing is rendered while any stands).
fn load_batch(ctx: &Context, manifest_path: &Path, s: &Settings) -> Result<Vec<Strategy>> {
    let items = manifest::read(manifest_path)?;
    let mut ok = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for item in &items {
        match k8s::load(&item.path, s, item.sha256.as_deref()) {
            Ok(l) => ok.push(loaded(ctx, &item.path, l)),
            Err(Error::Rejected { path, findings }) => {
                rejected.extend(findings.into_iter().map(|f| format!("{}: {f}", path.display())));
            }
            Err(e) => return Err(e),
        }
    }
    if rejected.is_empty() {
        Ok(ok)
    } else {
        Err(Error::Rejected { path: manifest_path.to_path_buf(), findings: rejected })
    }
}
