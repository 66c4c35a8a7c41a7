//! Podman as the engine (`--engine podman`): daemonless and Docker-CLI
//! compatible; the attack suite also runs on it (attacks::podman).

use crate::support::{bin, exec_path, require_podman, root};

#[test]
fn example_runs_on_podman() {
    require_podman();
    let run = exec_path(&root().join("examples/momentum.py"), &["--engine", "podman"]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert_eq!(run.json["container"]["engine"], "podman");
    assert!(run.json["container"]["engine_version"].as_str().unwrap_or("").starts_with("podman "));
    assert_eq!(run.json["position"]["rows"], 520);
}

#[test]
fn doctor_on_podman_is_healthy() {
    require_podman();
    let out = bin().args(["--json", "--engine", "podman", "doctor"]).output().expect("doctor");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["healthy"], true, "{v}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn cleanup_on_podman_lists_only_ours() {
    require_podman();
    let out = bin().args(["--json", "--engine", "podman", "cleanup", "--dry-run"]).output().expect("cleanup");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["dry_run"], true);
}
