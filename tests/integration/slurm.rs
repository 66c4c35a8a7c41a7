//! `finsandbox batch submit|status|collect|cancel` on a real Slurm: the
//! single-node cluster `scripts/slurm_up.sh` starts on 127.0.0.1 (`.ci/run`
//! runs it). Jobs run as root on this host, with this binary and this
//! engine. Without Slurm these tests fail, loudly: it is part of what they
//! test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{bin, docker, market, TRIVIAL_TAIL};

fn require_slurm() {
    let out = Command::new("sinfo")
        .args(["--noheader", "--format=%T"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("Slurm is not installed ({e}): run scripts/slurm_up.sh (`.ci/run` does)"));
    let state = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !state.trim().is_empty() && !state.contains("down"),
        "Slurm does not answer or its node is down ({state}): run scripts/slurm_up.sh\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run_ok(args: &[&str], extra: &[&Path]) -> Value {
    let out = bin().arg("--json").args(args).args(extra).output().expect("finsandbox");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)))
}

/// `batch submit DIR --data market --run-dir RUN EXTRA...`
fn submit(strategies: &Path, run: &Path, extra: &[&str]) -> Value {
    let out = bin()
        .args(["--json", "batch", "submit"])
        .arg(strategies)
        .arg("--data")
        .arg(market())
        .arg("--run-dir")
        .arg(run)
        .args(extra)
        .output()
        .expect("submit");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).expect("submit JSON")
}

fn status(run: &Path) -> Value {
    run_ok(&["batch", "status"], &[run])
}

/// Poll `status` until no shard is pending or running.
fn wait_settled(run: &Path, limit: Duration) -> Value {
    let start = Instant::now();
    loop {
        let s = status(run);
        let busy =
            s["shards"].as_array().expect("shards").iter().any(|x| x["state"] == "pending" || x["state"] == "running");
        if !busy {
            return s;
        }
        assert!(start.elapsed() < limit, "the run did not settle in {limit:?}: {s}\n{}", logs(run));
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn logs(run: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(run.join("logs")).into_iter().flatten().flatten() {
        s.push_str(&format!("--- {}\n{}\n", e.path().display(), std::fs::read_to_string(e.path()).unwrap_or_default()));
    }
    s
}

fn collect(run: &Path) -> (Option<i32>, Vec<Value>, String) {
    let out = bin().args(["batch", "collect"]).arg(run).output().expect("collect");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("collect wrote a torn line ({e}): {l}")))
        .collect();
    (out.status.code(), lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Our containers of a scheduled run (any state).
fn containers_of_run(run_id: &str) -> Vec<String> {
    let out = docker()
        .args(["ps", "-a", "--format", "{{.Names}}", "--filter", &format!("label=finsandbox.batch-run={run_id}")])
        .output()
        .expect("docker ps");
    assert!(out.status.success(), "docker ps: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

fn write(dir: &Path, name: &str, src: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, src).expect("write strategy");
    p
}

fn name_of(v: &Value) -> String {
    let p = v["strategy"]["path"].as_str().unwrap_or("");
    Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A run directory under the test's temporary directory, without spaces.
/// An empty `strategies/` directory in the test's temporary directory.
fn strategies_dir(tmp: &tempfile::TempDir) -> PathBuf {
    let dir = tmp.path().join("strategies");
    std::fs::create_dir(&dir).expect("mkdir");
    dir
}

fn run_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("run")
}

/// Cancels the run's jobs and removes its containers when the test ends,
/// passed or failed: no Slurm job or container outlives a test.
struct Cancel(PathBuf);

impl Drop for Cancel {
    fn drop(&mut self) {
        if self.0.join("submissions.jsonl").exists() {
            let _ = bin().args(["--quiet", "batch", "cancel"]).arg(&self.0).output();
        }
    }
}

#[test]
fn slurm_results_equal_a_local_batch_and_the_array_throttle_holds() {
    require_slurm();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = strategies_dir(&tmp);
    std::fs::copy(crate::support::root().join("examples/momentum.py"), dir.join("a_momentum.py")).expect("copy");
    write(&dir, "b_rejected.py", "import os\nos.system('id')\n");
    write(&dir, "c_error.py", "def strategy(data):\n    raise ValueError('bad idea')\n");
    write(&dir, "d_ok.py", &format!("x = 1{TRIVIAL_TAIL}"));
    write(
        &dir,
        "e_ok.py",
        "def strategy(data):\n    close = data.get('close')\n    return close > close.rolling(5).mean()\n",
    );
    std::fs::write(dir.join("f_binary.py"), [0xff, 0xfe, 0x00]).expect("write");
    let run = run_dir(&tmp);
    let _cancel = Cancel(run.clone());
    let sub = submit(&dir, &run, &["--shard-size", "2", "--array-parallel", "1"]);
    assert_eq!(sub["array"], "0-2%1", "{sub}");
    let run_id = sub["run_id"].as_str().expect("run id").to_string();

    // The same strategies on the local engine, meanwhile.
    let local = bin()
        .args(["--json", "batch"])
        .arg(&dir)
        .arg("--data")
        .arg(market())
        .args(["--jobs", "1"])
        .output()
        .expect("local");
    assert_eq!(local.status.code(), Some(0), "{}", text(&local));
    let local: Vec<Value> =
        String::from_utf8_lossy(&local.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();

    let st = wait_settled(&run, Duration::from_secs(150));
    assert_eq!(st["done"], 6, "{st}\n{}", logs(&run));
    let (code, lines, err) = collect(&run);
    assert_eq!(code, Some(0), "{err}");
    let names: Vec<String> = lines.iter().map(name_of).collect();
    assert_eq!(
        names,
        ["a_momentum.py", "b_rejected.py", "c_error.py", "d_ok.py", "e_ok.py", "f_binary.py"],
        "input order"
    );
    // Paths as submitted, not the run directory's copies.
    assert!(lines
        .iter()
        .all(|l| l["strategy"]["path"].as_str().is_some_and(|p| p.starts_with(dir.to_str().expect("utf8")))));

    let by_sha = |vs: &[Value]| -> BTreeMap<String, Value> {
        vs.iter()
            .map(|v| (v["strategy"]["sha256"].as_str().map(str::to_string).unwrap_or_else(|| name_of(v)), v.clone()))
            .collect()
    };
    let (remote, local) = (by_sha(&lines), by_sha(&local));
    assert_eq!(remote.keys().collect::<Vec<_>>(), local.keys().collect::<Vec<_>>());
    for (k, r) in &remote {
        let l = &local[k];
        assert_eq!(r["status"], l["status"], "{k}: {r}\nlocal: {l}");
        assert_eq!(r["metrics"], l["metrics"], "{k}: metrics differ");
        assert_eq!(r["provenance"]["config_sha256"], l["provenance"]["config_sha256"], "{k}");
        assert_eq!(r["provenance"]["data_sha256"], l["provenance"]["data_sha256"], "{k}");
    }
    assert!(remote.values().any(|v| v["status"] == "ok" && v["metrics"]["sharpe_ratio"].is_number()));

    // `--array-parallel 1`: the shards' workers never overlapped.
    let mut spans = Vec::new();
    for k in 0..3 {
        let ev = std::fs::read_to_string(run.join(format!("shards/{k:05}.events.jsonl"))).expect("events");
        let ev: Vec<Value> = ev.lines().map(|l| serde_json::from_str(l).expect("event")).collect();
        let at =
            |what: &str| ev.iter().find(|e| e["event"] == what).and_then(|e| e["at"].as_f64()).expect("start and end");
        spans.push((at("start"), at("end")));
        assert!(ev.iter().all(|e| e["job"].is_string()), "run by Slurm: {ev:?}");
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "two shards ran at once under --array-parallel 1: {spans:?}");
    }
    assert!(containers_of_run(&run_id).is_empty());
}

#[test]
fn cancel_mid_run_leaves_no_container_and_resume_completes_exactly_the_missing() {
    require_slurm();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = strategies_dir(&tmp);
    write(&dir, "s0_quick.py", &format!("x = 0{TRIVIAL_TAIL}"));
    write(&dir, "s1_slow.py", &format!("import time\ntime.sleep(8){TRIVIAL_TAIL}"));
    for i in 2..5 {
        write(&dir, &format!("s{i}_quick.py"), &format!("x = {i}{TRIVIAL_TAIL}"));
    }
    let run = run_dir(&tmp);
    let _cancel = Cancel(run.clone());
    let sub = submit(&dir, &run, &["--shard-size", "2", "--array-parallel", "1"]);
    let run_id = sub["run_id"].as_str().expect("run id").to_string();

    // Shard 0 has its first line and its slow strategy's container is up.
    let shard0 = run.join("shards/00000.jsonl");
    let start = Instant::now();
    loop {
        let lines = std::fs::read_to_string(&shard0).unwrap_or_default().lines().count();
        if lines == 1 && !containers_of_run(&run_id).is_empty() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "shard 0 never reached its slow strategy\n{}", logs(&run));
        std::thread::sleep(Duration::from_millis(200));
    }
    let before = std::fs::read_to_string(&shard0).expect("shard 0");

    let cancelled = run_ok(&["batch", "cancel"], &[&run]);
    assert_eq!(cancelled["jobs_gone"], true, "{cancelled}");
    let start = Instant::now();
    while !containers_of_run(&run_id).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "left behind: {:?}", containers_of_run(&run_id));
        std::thread::sleep(Duration::from_millis(200));
    }
    for l in std::fs::read_to_string(&shard0).expect("shard 0").lines() {
        serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("torn line ({e}): {l}"));
    }
    // The worker itself saw the SIGTERM, removed its containers and exited 143.
    let events = std::fs::read_to_string(run.join("shards/00000.events.jsonl")).expect("events");
    let last: Value = serde_json::from_str(events.lines().last().expect("an event")).expect("event JSON");
    assert_eq!((last["event"].as_str(), last["exit_code"].as_i64()), (Some("end"), Some(143)), "{events}");
    let st = status(&run);
    let states: Vec<&str> =
        st["shards"].as_array().expect("shards").iter().map(|s| s["state"].as_str().unwrap_or("")).collect();
    assert_eq!(states, ["failed", "failed", "failed"], "{st}");
    let (code, lines, err) = collect(&run);
    assert_eq!(code, Some(5), "incomplete: {err}");
    assert_eq!(lines.len(), 1);
    assert!(err.contains("4 of 5 strategies have no result yet") && err.contains("s1_slow.py"), "{err}");

    let again = bin().args(["--json", "batch", "submit", "--resume"]).arg(&run).output().expect("resume");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let again: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(again["shards"], serde_json::json!([0, 1, 2]), "{again}");
    let st = wait_settled(&run, Duration::from_secs(150));
    assert_eq!(st["done"], 5, "{st}\n{}", logs(&run));
    let (code, lines, err) = collect(&run);
    assert_eq!(code, Some(0), "{err}");
    let names: Vec<String> = lines.iter().map(name_of).collect();
    assert_eq!(names, ["s0_quick.py", "s1_slow.py", "s2_quick.py", "s3_quick.py", "s4_quick.py"]);
    let after = std::fs::read_to_string(&shard0).expect("shard 0");
    assert!(after.starts_with(&before), "the finished strategy's line stayed as it was");
    assert_eq!(after.lines().count(), 2, "s0 did not run again: {after}");
    assert!(lines.iter().all(|l| l["status"] == "ok"), "{lines:?}");
    assert!(containers_of_run(&run_id).is_empty());
}

#[test]
fn a_worker_refuses_a_strategy_changed_after_submit_and_runs_each_strategy_once() {
    require_slurm();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = strategies_dir(&tmp);
    write(&dir, "a_ok.py", &format!("x = 1{TRIVIAL_TAIL}"));
    write(&dir, "b_changed.py", &format!("x = 2{TRIVIAL_TAIL}"));
    // Over the 1 MiB limit at submit time: no copy, an error line, never a
    // run of the file as it is later.
    let huge = write(&dir, "c_huge.py", &format!("# {}\n", "x".repeat(1 << 20)));
    let run = run_dir(&tmp);
    let _cancel = Cancel(run.clone());
    // Held: Slurm never starts it; the worker runs here, by hand.
    let sub = submit(&dir, &run, &["--sbatch-arg=--hold"]);
    assert_eq!(sub["shards"], serde_json::json!([0]));
    std::fs::write(run.join("strategies/00001/b_changed.py"), "import os\n").expect("tamper");
    std::fs::write(&huge, format!("x = 3{TRIVIAL_TAIL}")).expect("shrink");
    let worker = || {
        let out =
            bin().args(["batch", "worker", "--run-dir"]).arg(&run).args(["--shard", "0"]).output().expect("worker");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    };
    worker();
    let (code, lines, err) = collect(&run);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(lines[0]["status"], "ok");
    assert_eq!(lines[1]["status"], "error");
    let msg = lines[1]["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("changed since the batch was submitted"), "{msg}");
    assert_eq!(lines[2]["status"], "error");
    let msg = lines[2]["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("unreadable when the batch was submitted"), "{msg}");
    worker();
    let shard = std::fs::read_to_string(run.join("shards/00000.jsonl")).expect("shard");
    assert_eq!(shard.lines().count(), 3, "a second worker run adds nothing: {shard}");
    let bad = bin().args(["batch", "worker", "--run-dir"]).arg(&run).args(["--shard", "7"]).output().expect("worker");
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    run_ok(&["batch", "cancel"], &[&run]);
}

#[test]
fn bad_run_dirs_and_a_missing_slurm_are_clear_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = bin().args(["batch", "status"]).arg(tmp.path()).output().expect("status");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a finsandbox run directory"), "{}", text(&out));
    let out = bin().args(["batch", "collect"]).arg(tmp.path().join("nope")).output().expect("collect");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));

    let s = crate::support::strategy(&format!("x = 1{TRIVIAL_TAIL}"));
    let run = tmp.path().join("run");
    let out = bin()
        .env("PATH", "/nonexistent")
        .args(["batch", "submit"])
        .arg(&s.path)
        .arg("--data")
        .arg(market())
        .arg("--run-dir")
        .arg(&run)
        .output()
        .expect("submit");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no scheduler: `sbatch` was not found on PATH") && err.contains("hint:"), "{err}");
    assert!(!run.exists(), "nothing is written before Slurm is found");

    std::fs::create_dir(&run).expect("mkdir");
    std::fs::write(run.join("other"), "").expect("write");
    require_slurm();
    let out = bin()
        .args(["batch", "submit"])
        .arg(&s.path)
        .arg("--data")
        .arg(market())
        .arg("--run-dir")
        .arg(&run)
        .output()
        .expect("submit");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"), "{}", text(&out));
}

#[test]
fn doctor_on_slurm_runs_the_self_test_on_a_node_and_refuses_a_failing_one() {
    require_slurm();
    let out = bin().args(["--json", "doctor", "--backend", "slurm", "--runtime", "runc"]).output().expect("doctor");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["healthy"], true, "{v}");
    assert!(v["job_id"].is_string());
    let checks = &v["report"]["runtimes"][0]["checks"];
    assert!(checks.as_array().is_some_and(|c| !c.is_empty()), "the node's canary report: {v}");

    // A node whose engine cannot run the canary is refused.
    let out =
        bin().args(["--json", "--engine", "/bin/false", "doctor", "--backend", "slurm"]).output().expect("doctor");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["healthy"], false, "{v}");
    assert!(v["error"].is_string(), "{v}");
}
