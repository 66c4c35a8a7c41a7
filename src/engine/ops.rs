//! Engine operations around a run: locate the CLI, preflight, check the image,
//! inspect the finished container, kill and remove it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::command::Engine;
use crate::config::EnvMap;
use crate::error::EngineError;
use crate::image::{LABEL_PROTOCOL, LABEL_RECIPE, RECIPE_VERSION};

/// Deadline for quick engine calls. A healthy local daemon answers in
/// milliseconds; five seconds separates "slow" from "not there".
pub const QUICK: Duration = Duration::from_secs(5);
/// Docker 20.10's API version: `--pids-limit`, `--cpus` and cgroup v2 support.
const MIN_API: (u32, u32) = (1, 41);
/// Podman 4 has the `--pids-limit`, `--ulimit` and `--mount` behaviour relied on.
const MIN_PODMAN: (u32, u32) = (4, 0);

/// Find the engine CLI: `--engine`, else `FINSANDBOX_ENGINE`, else `docker`.
/// A value with a slash is a path; anything else is looked up on PATH.
pub fn locate(flag: Option<&str>, env: &EnvMap) -> Result<Engine, EngineError> {
    let name =
        flag.map(str::to_string).or_else(|| env.get(crate::config::env::ENGINE).cloned()).filter(|s| !s.is_empty());
    let name = name.unwrap_or_else(|| "docker".to_string());
    let path = if name.contains('/') {
        let p = PathBuf::from(&name);
        if !p.is_file() {
            return Err(EngineError::NotFound { name });
        }
        p
    } else {
        which::which(&name).map_err(|_| EngineError::NotFound { name: name.clone() })?
    };
    Ok(Engine::new(path))
}

#[derive(Debug, Deserialize)]
struct VersionDoc {
    #[serde(rename = "Server")]
    server: Option<ServerVersion>,
    #[serde(rename = "Client")]
    client: Option<ServerVersion>,
}

#[derive(Debug, Deserialize)]
struct ServerVersion {
    #[serde(rename = "Version", default)]
    version: String,
    #[serde(rename = "ApiVersion", default)]
    api_version: String,
    /// Podman spells it this way.
    #[serde(rename = "APIVersion", default)]
    podman_api_version: String,
}

/// What preflight learnt about the engine.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub server_version: String,
}

/// The engine answers and is new enough.
pub fn preflight(engine: &Engine) -> Result<EngineInfo, EngineError> {
    let out = engine.run(["version", "--format", "{{json .}}"], QUICK).map_err(|e| match e {
        EngineError::Command { stderr, .. } => EngineError::Unavailable { message: first_line(&stderr) },
        EngineError::CommandTimeout { seconds, .. } => {
            EngineError::Unavailable { message: format!("`{} version` got no answer within {seconds}s", engine.name()) }
        }
        other => other,
    })?;
    parse_version(&out.stdout)
}

fn first_line(s: &str) -> String {
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no error message").to_string()
}

pub fn parse_version(json: &str) -> Result<EngineInfo, EngineError> {
    let doc: VersionDoc = serde_json::from_str(json.trim())
        .map_err(|e| EngineError::Unavailable { message: format!("unreadable `version` output: {e}") })?;
    // Podman without a remote service is its own engine: no `Server` block,
    // and its client reports podman's version as `APIVersion`.
    if doc.server.is_none() {
        if let Some(c) = doc.client.filter(|c| !c.podman_api_version.is_empty()) {
            let v = parse_api(&c.version).unwrap_or((0, 0));
            if v < MIN_PODMAN {
                return Err(EngineError::TooOld {
                    found: format!("podman {}", c.version),
                    needed: format!("podman {}.{}", MIN_PODMAN.0, MIN_PODMAN.1),
                });
            }
            return Ok(EngineInfo { server_version: format!("podman {}", c.version) });
        }
    }
    let server = doc.server.ok_or_else(|| EngineError::Unavailable { message: "the CLI reports no server".into() })?;
    let api = parse_api(&server.api_version).ok_or_else(|| EngineError::Unavailable {
        message: format!("unreadable API version `{}`", server.api_version),
    })?;
    if api < MIN_API {
        return Err(EngineError::TooOld {
            found: format!("API {}", server.api_version),
            needed: format!("API {}.{} (Docker 20.10)", MIN_API.0, MIN_API.1),
        });
    }
    Ok(EngineInfo { server_version: server.version })
}

/// `1.41` or `4.3.1` → (major, minor).
fn parse_api(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.trim().split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The image exists and was built by a recipe this binary speaks to.
/// Returns its id.
pub fn check_image(engine: &Engine, image: &str) -> Result<ImageInfo, EngineError> {
    // Field by field: `{{json .}}` is one line from docker but an indented
    // array from podman.
    let out =
        engine.run(["image", "inspect", "--format", "{{.Id}} {{json .Config.Labels}}", image], QUICK).map_err(|e| {
            match e {
                EngineError::Command { stderr, .. } if stderr.to_lowercase().contains("no such") => {
                    EngineError::ImageMissing { image: image.to_string() }
                }
                other => other,
            }
        })?;
    parse_image(image, &out.stdout)
}

#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub id: String,
    pub labels: BTreeMap<String, String>,
}

/// `ID LABELS-JSON`, as `check_image` asks for it.
pub fn parse_image(image: &str, text: &str) -> Result<ImageInfo, EngineError> {
    let unreadable = |why: String| EngineError::ImageStale {
        image: image.to_string(),
        reason: format!("unreadable `image inspect` output: {why}"),
    };
    let (id, labels) = text.trim().split_once(' ').ok_or_else(|| unreadable(text.trim().to_string()))?;
    let labels: Option<BTreeMap<String, String>> =
        serde_json::from_str(labels).map_err(|e| unreadable(e.to_string()))?;
    let labels = labels.unwrap_or_default();
    let id = id.to_string();
    let stale = |reason: String| EngineError::ImageStale { image: image.to_string(), reason };
    match labels.get(LABEL_RECIPE) {
        None => return Err(stale("it was not built by `finsandbox image build` (no recipe label)".into())),
        Some(v) if v != RECIPE_VERSION => {
            return Err(stale(format!("built from recipe {v}, this finsandbox needs recipe {RECIPE_VERSION}")))
        }
        Some(_) => {}
    }
    if labels.get(LABEL_PROTOCOL).map(String::as_str) != Some(crate::harness::PROTOCOL_STR) {
        return Err(stale("its harness protocol label does not match this finsandbox".into()));
    }
    Ok(ImageInfo { id, labels })
}

/// The state of a finished container.
#[derive(Debug, Clone, Deserialize)]
pub struct ContainerState {
    #[serde(rename = "ExitCode")]
    pub exit_code: i64,
    #[serde(rename = "OOMKilled", default)]
    pub oom_killed: bool,
}

pub fn inspect_state(engine: &Engine, name: &str) -> Result<ContainerState, EngineError> {
    let out = engine.run(["container", "inspect", "--format", "{{json .State}}", name], QUICK)?;
    serde_json::from_str(out.stdout.trim()).map_err(|e| EngineError::Command {
        command: format!("{} container inspect {name}", engine.name()),
        status: "unreadable output".into(),
        stderr: e.to_string(),
    })
}

/// SIGKILL the container. "Not running" and "no such container" count as
/// success: the goal is that it no longer runs.
pub fn kill(engine: &Engine, name: &str) -> Result<(), EngineError> {
    match engine.run(["kill", name], QUICK) {
        Ok(_) => Ok(()),
        Err(EngineError::Command { stderr, .. }) if is_gone(&stderr) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Remove the container, running or not. Absent counts as success.
pub fn remove(engine: &Engine, name: &str) -> Result<(), EngineError> {
    match engine.run(["rm", "--force", "--volumes", name], Duration::from_secs(20)) {
        Ok(_) => Ok(()),
        Err(EngineError::Command { stderr, .. }) if stderr.to_lowercase().contains("no such container") => Ok(()),
        Err(e) => Err(e),
    }
}

fn is_gone(stderr: &str) -> bool {
    let s = stderr.to_lowercase();
    s.contains("no such container") || s.contains("is not running")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_with_new_enough_server_passes() {
        let info = parse_version(r#"{"Client":{},"Server":{"Version":"20.10.24","ApiVersion":"1.41"}}"#).expect("ok");
        assert_eq!(info.server_version, "20.10.24");
    }

    #[test]
    fn version_too_old_is_refused() {
        let err = parse_version(r#"{"Server":{"Version":"19.03.1","ApiVersion":"1.40"}}"#).expect_err("old");
        assert!(matches!(err, EngineError::TooOld { .. }), "{err}");
    }

    #[test]
    fn version_without_server_means_unavailable() {
        let err = parse_version(r#"{"Client":{"Version":"28"},"Server":null}"#).expect_err("no server");
        assert!(matches!(err, EngineError::Unavailable { .. }));
    }

    #[test]
    fn local_podman_is_its_own_engine() {
        let info = parse_version(r#"{"Client":{"APIVersion":"4.3.1","Version":"4.3.1"}}"#).expect("podman");
        assert_eq!(info.server_version, "podman 4.3.1");
        assert!(parse_version(r#"{"Client":{"APIVersion":"3.0.1","Version":"3.0.1"}}"#).is_err());
    }

    #[test]
    fn api_versions_compare_numerically() {
        assert!(parse_api("1.100") > parse_api("1.41"));
        assert_eq!(parse_api("garbage"), None);
    }

    fn image_json(recipe: &str, protocol: &str) -> String {
        format!(r#"sha256:abc {{"{LABEL_RECIPE}":"{recipe}","{LABEL_PROTOCOL}":"{protocol}"}}"#)
    }

    #[test]
    fn current_image_passes() {
        let info = parse_image("img", &image_json(RECIPE_VERSION, crate::harness::PROTOCOL_STR)).expect("current");
        assert_eq!(info.id, "sha256:abc");
    }

    #[test]
    fn stale_recipe_says_rebuild() {
        let err = parse_image("img", &image_json("0", crate::harness::PROTOCOL_STR)).expect_err("stale");
        assert!(matches!(err, EngineError::ImageStale { .. }));
        assert!(crate::error::Error::from(err).hint().unwrap_or_default().contains("finsandbox image build"));
    }

    #[test]
    fn foreign_image_is_stale() {
        let err = parse_image("img", "x null").expect_err("foreign");
        assert!(err.to_string().contains("not built by"), "{err}");
    }

    #[test]
    fn container_state_parses() {
        let s: ContainerState =
            serde_json::from_str(r#"{"Status":"exited","ExitCode":137,"OOMKilled":true,"Error":""}"#).expect("parses");
        assert_eq!(s.exit_code, 137);
        assert!(s.oom_killed);
    }
}
