//! Short engine operations: locate the CLI, preflight, `info`, image and
//! container `inspect`, `ps` by label, `update`, `kill`, `rm`. Each knows the
//! command and the shape of its output; nothing here judges what it returns.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::command::Engine;
use crate::config::EnvMap;
use crate::error::EngineError;

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
        // Absolute: the engine CLI is started from the run's own directory.
        std::path::absolute(&p).map_err(|_| EngineError::NotFound { name })?
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

/// What the engine says of an image: its id and labels.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    pub id: String,
    pub labels: BTreeMap<String, String>,
}

/// `image inspect`: the id and labels, or [`EngineError::ImageMissing`].
pub fn image_inspect(engine: &Engine, image: &str) -> Result<ImageRecord, EngineError> {
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
    parse_image_record(image, &out.stdout)
}

/// `ID LABELS-JSON`, as [`image_inspect`] asks for it.
pub fn parse_image_record(image: &str, text: &str) -> Result<ImageRecord, EngineError> {
    let unreadable = |why: String| EngineError::ImageStale {
        image: image.to_string(),
        reason: format!("unreadable `image inspect` output: {why}"),
    };
    let (id, labels) = text.trim().split_once(' ').ok_or_else(|| unreadable(text.trim().to_string()))?;
    let labels: Option<BTreeMap<String, String>> =
        serde_json::from_str(labels).map_err(|e| unreadable(e.to_string()))?;
    Ok(ImageRecord { id: id.to_string(), labels: labels.unwrap_or_default() })
}

/// The full id of a container, to find its cgroup.
pub fn container_id(engine: &Engine, name: &str) -> Result<String, EngineError> {
    let out = engine.run(["container", "inspect", "--format", "{{.Id}}", name], Duration::from_secs(2))?;
    Ok(out.stdout.trim().to_string())
}

/// The container id the engine CLI wrote to its `--cidfile`: exactly 64
/// lowercase hex digits (what Docker and Podman write), else `None` and the
/// caller asks the engine. A small regular file read to a bound: the path is
/// ours, but nothing is assumed of what is there.
pub fn read_cidfile(path: &std::path::Path) -> Option<String> {
    let bytes = crate::fsread::read_regular(path, 256).ok()?;
    parse_cid(&bytes)
}

/// The id in a cidfile's bytes (see [`read_cidfile`]).
pub fn parse_cid(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| text.to_string())
}

/// Runtimes the engine offers (`docker info`), the default first.
pub fn runtimes(engine: &Engine) -> Result<(String, Vec<String>), EngineError> {
    if let Ok(out) = engine.run(["info", "--format", "{{json .DefaultRuntime}} {{json .Runtimes}}"], QUICK) {
        if let Some(r) = parse_runtimes(&out.stdout) {
            return Ok(r);
        }
    }
    // Podman names one OCI runtime in its `info`, elsewhere.
    let out = engine.run(["info", "--format", "{{.Host.OCIRuntime.Name}}"], QUICK)?;
    let name = out.stdout.trim().to_string();
    if name.is_empty() {
        return Err(EngineError::Unavailable { message: "the engine names no runtime in `info`".into() });
    }
    Ok((name.clone(), vec![name]))
}

pub fn parse_runtimes(s: &str) -> Option<(String, Vec<String>)> {
    let s = s.trim();
    let (default, rest) = s.split_once(' ')?;
    let default: String = serde_json::from_str(default).ok()?;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(rest).ok()?;
    let mut names: Vec<String> = map.keys().cloned().collect();
    names.sort_by_key(|n| (n != &default, n.clone()));
    Some((default, names))
}

/// Change a running container's CPU quota (`docker update --cpus`).
pub fn update_cpus(engine: &Engine, name: &str, cpus: f64) -> Result<(), EngineError> {
    engine.run(["update".to_string(), "--cpus".to_string(), format!("{cpus}"), name.to_string()], QUICK).map(|_| ())
}

/// The CPU limit the engine holds for a container (`HostConfig.NanoCpus`),
/// in CPUs; `None` when it has none.
pub fn cpu_limit(engine: &Engine, name: &str) -> Result<Option<f64>, EngineError> {
    let out = engine.run(["container", "inspect", "--format", "{{.HostConfig.NanoCpus}}", name], QUICK)?;
    let nano: f64 = out.stdout.trim().parse().map_err(|_| EngineError::Command {
        command: format!("{} container inspect {name}", engine.name()),
        status: "unreadable output".into(),
        stderr: out.stdout.clone(),
    })?;
    Ok((nano > 0.0).then_some(nano / 1e9))
}

/// A container carrying a label, as `list_labelled` reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabelledContainer {
    pub id: String,
    pub name: String,
    pub state: String,
    pub labels: BTreeMap<String, String>,
}

/// Every container with `label=true`, running or not.
pub fn list_labelled(engine: &Engine, label: &str) -> Result<Vec<LabelledContainer>, EngineError> {
    let filter = format!("label={label}=true");
    let ids = engine.run(["ps", "--all", "--quiet", "--no-trunc", "--filter", &filter], QUICK)?;
    let ids: Vec<&str> = ids.stdout.split_whitespace().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec!["container", "inspect", "--format", INSPECT_FORMAT];
    args.extend(&ids);
    // A container may vanish between `ps` and `inspect` (its own run removed
    // it): inspect the survivors one by one then.
    match engine.run(&args, QUICK) {
        Ok(out) => parse_labelled(&out.stdout, label),
        Err(_) => {
            let mut all = Vec::new();
            for id in ids {
                if let Ok(out) = engine.run(["container", "inspect", "--format", INSPECT_FORMAT, id], QUICK) {
                    all.extend(parse_labelled(&out.stdout, label)?);
                }
            }
            Ok(all)
        }
    }
}

/// One line per container, the same from docker and podman (their
/// `{{json .}}` differ: one line versus an indented array).
const INSPECT_FORMAT: &str = "{{.Id}}\t{{.Name}}\t{{.State.Status}}\t{{json .Config.Labels}}";

/// Lines of `ID<TAB>NAME<TAB>STATUS<TAB>LABELS-JSON`; containers whose
/// `label` is not `true` are dropped, whatever the engine's filter did.
pub fn parse_labelled(text: &str, label: &str) -> Result<Vec<LabelledContainer>, EngineError> {
    let unreadable = |why: String| EngineError::Command {
        command: "container inspect".into(),
        status: "unreadable output".into(),
        stderr: why,
    };
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.splitn(4, '\t');
        let (Some(id), Some(name), Some(state), Some(labels)) = (f.next(), f.next(), f.next(), f.next()) else {
            return Err(unreadable(line.to_string()));
        };
        let labels: Option<BTreeMap<String, String>> =
            serde_json::from_str(labels).map_err(|e| unreadable(e.to_string()))?;
        let labels = labels.unwrap_or_default();
        // Belt and braces: never act on a container without the label, even
        // if the engine's filter misbehaved.
        if labels.get(label).map(String::as_str) != Some("true") {
            continue;
        }
        out.push(LabelledContainer {
            id: id.to_string(),
            name: name.trim_start_matches('/').to_string(),
            state: state.to_string(),
            labels,
        });
    }
    Ok(out)
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
    fn a_cidfile_holds_exactly_one_full_id_or_nothing_is_believed() {
        let id = "b2c03b17b1982433aa6faba8831813654fd75fc6eeba9641584e563b6a8c38d2";
        assert_eq!(parse_cid(id.as_bytes()).as_deref(), Some(id));
        assert_eq!(parse_cid(format!("{id}\n").as_bytes()).as_deref(), Some(id), "podman ends it with a newline");
        for bad in [
            &b""[..],
            b"b2c03b17b198",                          // short id
            id.to_uppercase().as_bytes(),             // not what engines write
            format!("{id}{id}").as_bytes(),           // two ids
            format!("{}/../x", &id[..60]).as_bytes(), // a path
            &[0xff; 64][..],                          // not UTF-8
        ] {
            assert_eq!(parse_cid(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(read_cidfile(&dir.path().join("missing")), None);
        assert_eq!(read_cidfile(dir.path()), None, "a directory");
        std::fs::write(dir.path().join("cid"), id).expect("write");
        assert_eq!(read_cidfile(&dir.path().join("cid")).as_deref(), Some(id));
    }

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

    #[test]
    fn image_record_parses_id_and_labels() {
        let r = parse_image_record("img", r#"sha256:abc {"a":"1"}"#).expect("parses");
        assert_eq!(r.id, "sha256:abc");
        assert_eq!(r.labels.get("a").map(String::as_str), Some("1"));
        assert!(parse_image_record("img", "x null").expect("no labels").labels.is_empty());
        assert!(parse_image_record("img", "garbage").is_err());
    }

    #[test]
    fn runtimes_default_first() {
        let (d, names) = parse_runtimes(r#""runc" {"io.containerd.runc.v2":{"path":"runc"},"runc":{"path":"runc"},"runsc":{"path":"/usr/bin/runsc"}}"#)
            .expect("parses");
        assert_eq!(d, "runc");
        assert_eq!(names[0], "runc");
        assert!(names.contains(&"runsc".to_string()));
    }

    #[test]
    fn container_state_parses() {
        let s: ContainerState =
            serde_json::from_str(r#"{"Status":"exited","ExitCode":137,"OOMKilled":true,"Error":""}"#).expect("parses");
        assert_eq!(s.exit_code, 137);
        assert!(s.oom_killed);
    }
}
