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

/// A run leaves nothing in the directory it was started from, on either
/// engine and however the container ends: Podman's conmon writes a file named
/// `oom` into its working directory when the container is OOM-killed, so the
/// engine CLI runs from the run's private directory. Started here from a
/// fresh directory, with the engine named by a relative path (which must
/// still be found from there).
#[test]
fn an_oom_killed_run_leaves_nothing_in_the_working_directory() {
    require_podman();
    let strategy =
        crate::support::strategy("chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n");
    for engine in ["podman", "docker"] {
        let cwd = tempfile::tempdir().expect("tmp");
        let which = std::process::Command::new("which").arg(engine).output().expect("which");
        let program = std::path::PathBuf::from(String::from_utf8_lossy(&which.stdout).trim());
        std::os::unix::fs::symlink(&program, cwd.path().join(engine)).expect("symlink");
        let out = bin()
            .current_dir(cwd.path())
            .args(["--json", "--engine", &format!("./{engine}"), "exec"])
            .arg(&strategy.path)
            .arg("--data")
            .arg(crate::support::market())
            .args(["--skip-screening", "--no-runtime-policy", "--memory", "256m", "--timeout", "60"])
            .output()
            .expect("exec");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["status"], "memory_limit", "{engine}: {v}");
        let left: Vec<String> = std::fs::read_dir(cwd.path())
            .expect("read_dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n != engine)
            .collect();
        assert!(left.is_empty(), "{engine} left {left:?} in the working directory");
    }
}
