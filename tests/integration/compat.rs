//! The finlab-compatible API: its Python unit tests (hand-computed frames)
//! inside the sandbox image, and a finlab-style script on the sample dataset.

use std::process::Stdio;

use crate::support::{bin, docker, root};

#[test]
fn python_unit_tests_of_the_compat_layer_pass_in_the_image() {
    let out = docker()
        .args(["run", "--rm", "--network", "none", "-v"])
        .arg(format!("{}:/h:ro", root().join("src/harness").display()))
        .arg("-v")
        .arg(format!("{}:/t:ro", root().join("tests/python").display()))
        .args(["finsandbox-runtime:1", "python3", "-m", "unittest", "discover", "-s", "/t", "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("docker run");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let ran: u32 = log
        .lines()
        .find_map(|l| l.strip_prefix("Ran ").and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    assert!(ran >= 17, "only {ran} tests ran: {log}");
    assert!(log.trim_end().ends_with("OK"), "{log}");
}

#[test]
fn finlab_script_runs_unchanged_on_the_sample_dataset() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("sample");
    let out =
        bin().args(["data", "sample"]).arg(&data).args(["--symbols", "40", "--years", "3"]).output().expect("sample");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = root().join("tests/screening/accepted/finlab_revenue.py");
    let s = crate::support::strategy(&std::fs::read_to_string(&script).expect("script"));
    let out = bin().args(["--json", "exec"]).arg(&s.path).arg("--data").arg(&data).output().expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "ok", "{v}");
    assert_eq!(v["backtest"]["resample"], "M");
    assert_eq!(v["backtest"]["stop_loss"], 0.08);
    assert!(v["metrics"]["sharpe_ratio"].is_number(), "{}", v["metrics"]);
    assert!(v["position"]["columns"].as_u64().unwrap_or(0) == 40);
}

#[test]
fn data_import_converts_a_long_csv() {
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("prices.csv");
    std::fs::write(&csv, "date,symbol,close\n2024-01-02,AAA,10\n2024-01-03,AAA,11\n").expect("write");
    let out_file = dir.path().join("prices.parquet");
    let out = bin().args(["data", "import"]).arg(&csv).arg(&out_file).output().expect("import");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "date,symbol,close\n2024-01-02,AAA,ten\n").expect("write");
    let out = bin().args(["data", "import"]).arg(&bad).arg(dir.path().join("x.parquet")).output().expect("import");
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}
