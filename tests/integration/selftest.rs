//! `finsandbox doctor`, `exec --self-test`, and the legitimate corpus under
//! the measured seccomp profile.

use crate::support::{bin, exec_path, market, root};

#[test]
fn doctor_reports_every_runtime_healthy() {
    let out = bin().args(["--json", "doctor"]).output().expect("doctor");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["healthy"], true, "{v}");
    let runtimes = v["runtimes"].as_array().expect("runtimes");
    let names: Vec<&str> = runtimes.iter().filter_map(|r| r["runtime"].as_str()).collect();
    assert!(names.contains(&"runc") && names.contains(&"runsc"), "{names:?}");
    for r in runtimes {
        let checks = r["checks"].as_array().expect("checks");
        assert!(checks.len() >= 15, "{r}");
        assert!(checks.iter().all(|c| c["escaped"] == false), "{r}");
    }
}

#[test]
fn doctor_fails_when_the_sandbox_is_weakened() {
    // A config that lets the network in (accepted only with --allow-insecure
    // for exec): doctor resolves it without that flag and must refuse.
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("weak.yaml");
    std::fs::write(&cfg, "docker:\n  network_mode: bridge\n").expect("write");
    let out = bin().args(["doctor", "--config"]).arg(&cfg).output().expect("doctor");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn exec_self_test_runs_the_canary_first() {
    let out = bin()
        .args(["--json", "exec", "--self-test"])
        .arg(root().join("examples/momentum.py"))
        .arg("--data")
        .arg(market())
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "ok", "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("self-test passed"));
}

#[test]
fn the_legitimate_corpus_runs_under_the_profile_and_lockdown() {
    // Every strategy of the corpora (examples/, tests/strategies/, the
    // screening's accepted corpus; numpy/OpenBLAS threads included) must run to
    // `ok` under seccomp/finsandbox.json and the lockdown, on the sample data.
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("sample");
    let out =
        bin().args(["data", "sample"]).arg(&data).args(["--symbols", "40", "--years", "3"]).output().expect("sample");
    assert!(out.status.success());
    let mut files: Vec<_> = ["examples", "tests/strategies", "tests/screening/accepted"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).expect("dir"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "py") && !p.ends_with("make_market.py"))
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    for f in files {
        let run = exec_path(&f, &["--cpus", "2", "--data", data.to_str().expect("utf8")]);
        assert_eq!(run.status(), "ok", "{} broke under the profile: {}", f.display(), run.describe());
    }
}
