//! `finsandbox batch` on the real engine: one correct line per strategy
//! whatever each did, resume, interrupts, and nothing left behind.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{bin, containers_of, market, TRIVIAL_TAIL};

/// A directory of strategies of every outcome.
fn mixed(dir: &Path) {
    let w = |name: &str, src: &str| std::fs::write(dir.join(name), src).expect("write");
    w("a_ok.py", "def strategy(data):\n    close = data.get('close')\n    return close > close.rolling(5).mean()\n");
    w("b_rejected.py", "import os\nos.system('id')\n");
    w("c_error.py", "def strategy(data):\n    raise ValueError('bad idea')\n");
    w("d_timeout.py", &format!("import time\ntime.sleep(60){TRIVIAL_TAIL}"));
    w("e_ok.py", &format!("x = 1{TRIVIAL_TAIL}"));
    std::fs::write(dir.join("f_binary.py"), [0xff, 0xfe, 0x00]).expect("write");
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

fn by_name(lines: &[Value]) -> std::collections::BTreeMap<String, String> {
    lines
        .iter()
        .map(|v| {
            let path = v["strategy"]["path"].as_str().unwrap_or("");
            let name = Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (name, v["status"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

#[test]
fn a_mixed_batch_gives_one_correct_line_each_and_resume_skips_exactly_the_finished() {
    let dir = tempfile::tempdir().expect("tmp");
    mixed(dir.path());
    let out = dir.path().join("results.jsonl");
    let run = bin()
        .args(["--json", "batch"])
        .arg(dir.path())
        .arg("--data")
        .arg(market())
        .args(["--jobs", "2", "--timeout", "10", "--out"])
        .arg(&out)
        .output()
        .expect("batch");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = lines(&String::from_utf8_lossy(&run.stdout));
    let file = lines(&std::fs::read_to_string(&out).expect("out"));
    assert_eq!(stdout.len(), 6);
    assert_eq!(file.len(), 6, "the file holds the same lines");
    let got = by_name(&file);
    let want: Vec<(&str, &str)> = vec![
        ("a_ok.py", "ok"),
        ("b_rejected.py", "rejected"),
        ("c_error.py", "strategy_error"),
        ("d_timeout.py", "timeout"),
        ("e_ok.py", "ok"),
        ("f_binary.py", "error"),
    ];
    for (name, status) in want {
        assert_eq!(got.get(name).map(String::as_str), Some(status), "{name}: {got:?}");
    }
    let ok = file.iter().find(|v| v["status"] == "ok").expect("an ok line");
    assert!(ok["metrics"]["total_return"].is_number(), "the schema of exec --json: {ok}");
    assert!(ok["provenance"]["config_sha256"].is_string());

    // Resume: add one strategy; only it runs.
    std::fs::write(dir.path().join("g_new.py"), format!("y = 2{TRIVIAL_TAIL}")).expect("write");
    let again = bin()
        .args(["--json", "batch"])
        .arg(dir.path())
        .arg("--data")
        .arg(market())
        .args(["--jobs", "2", "--timeout", "10", "--resume", "--out"])
        .arg(&out)
        .output()
        .expect("resume");
    assert_eq!(again.status.code(), Some(0));
    let new = lines(&String::from_utf8_lossy(&again.stdout));
    // The unreadable file has no hashes to match: it is tried again.
    let names: Vec<String> = by_name(&new).into_keys().collect();
    assert_eq!(names, ["f_binary.py", "g_new.py"], "only the unfinished ran");
    assert_eq!(lines(&std::fs::read_to_string(&out).expect("out")).len(), 8);
}

#[test]
fn strategies_from_stdin_and_text_lines_without_json() {
    let dir = tempfile::tempdir().expect("tmp");
    mixed(dir.path());
    let list = format!("{}\n{}\n", dir.path().join("a_ok.py").display(), dir.path().join("b_rejected.py").display());
    let mut child = bin()
        .args(["batch", "-", "--data"])
        .arg(market())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), list.as_bytes()).expect("write list");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("batch");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("a_ok.py: ok"), "{text}");
    assert!(text.contains("b_rejected.py: rejected"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("by status: ok 1, rejected 1"), "{err}");
}

#[test]
fn no_strategies_is_an_input_error_with_json() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("notes.txt"), "not a strategy").expect("write");
    let out = bin().args(["--json", "batch"]).arg(dir.path()).arg("--data").arg(market()).output().expect("batch");
    assert_eq!(out.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&out.stdout).expect("error JSON");
    assert_eq!(v["exit_code"], 4);
    let message = v["error"]["message"].as_str().unwrap_or("");
    // About the strategies and where they were looked for, not the data.
    assert!(message.contains("no strategies") && message.contains(&dir.path().display().to_string()), "{v}");
    assert!(!v["error"]["hint"].as_str().unwrap_or("").contains("Parquet"), "{v}");
}

#[test]
fn bad_batch_arguments_fail_before_any_container_with_their_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = dir.path().join("s.py");
    std::fs::write(&s, TRIVIAL_TAIL).expect("write");
    let run = |extra: &[&std::ffi::OsStr]| {
        let mut c = bin();
        c.args(["--json", "batch"]).arg(&s).arg("--data").arg(market()).args(extra);
        c.output().expect("batch")
    };
    // No slot at all is a usage error, not "the default".
    let out = run(&["--jobs".as_ref(), "0".as_ref()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // An --out that cannot be appended to: an input error naming it, with a hint.
    for target in [dir.path().to_path_buf(), dir.path().join("missing-dir").join("r.jsonl")] {
        let out = run(&["--out".as_ref(), target.as_os_str()]);
        assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stdout));
        let v: Value = serde_json::from_slice(&out.stdout).expect("error JSON");
        assert_eq!(v["error"]["kind"], "input_error", "{v}");
        assert!(v["error"]["message"].as_str().unwrap_or("").contains(&target.display().to_string()), "{v}");
        assert!(v["error"]["hint"].as_str().is_some_and(|h| h.contains("--out")), "{v}");
    }
}

#[test]
fn a_torn_last_line_in_out_is_ended_before_the_next_and_resume_still_works() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = dir.path().join("s.py");
    std::fs::write(&s, TRIVIAL_TAIL).expect("write");
    let out = dir.path().join("r.jsonl");
    // A line cut by a crash inside a UTF-8 sequence (the CJK of a path).
    let torn = "{\"strategy\":{\"path\":\"策".as_bytes();
    std::fs::write(&out, &torn[..torn.len() - 1]).expect("write");
    let batch = |extra: &[&str]| {
        bin().args(["--quiet", "batch"]).arg(&s).arg("--data").arg(market()).arg("--out").arg(&out).args(extra).output()
    };
    let first = batch(&[]).expect("batch");
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let again = batch(&["--resume"]).expect("resume");
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let bytes = std::fs::read(&out).expect("read");
    let records: Vec<&[u8]> = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(records.len(), 2, "the torn line, then exactly one result: {}", String::from_utf8_lossy(&bytes));
    let v: Value = serde_json::from_slice(records[1]).expect("the result is a line of its own");
    assert_eq!(v["status"], "ok", "{v}");
}

#[test]
fn sigint_mid_batch_removes_every_container_and_leaves_valid_jsonl() {
    let dir = tempfile::tempdir().expect("tmp");
    for i in 0..6 {
        std::fs::write(dir.path().join(format!("s{i}.py")), format!("import time\ntime.sleep(30){TRIVIAL_TAIL}"))
            .expect("write");
    }
    std::fs::write(dir.path().join("a_quick.py"), format!("x = 1{TRIVIAL_TAIL}")).expect("write");
    let out = dir.path().join("r.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_finsandbox"))
        .current_dir(crate::support::root())
        .env("FINSANDBOX_CONFIG", crate::support::root().join("tests/no-sweep.yaml"))
        .args(["batch"])
        .arg(dir.path())
        .arg("--data")
        .arg(market())
        .args(["--jobs", "2", "--out"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    // Wait until the quick one has its line and four containers exist: two
    // strategies running (sleeping) and a warm successor for each, held at
    // READY.
    let started = Instant::now();
    let lines_now = || std::fs::read_to_string(&out).unwrap_or_default().lines().count();
    while (containers_of(pid).len() < 4 || lines_now() < 1) && started.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(containers_of(pid).len(), 4, "two running and two warm");
    assert_eq!(lines_now(), 1, "the quick strategy's line");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let done = child.wait_with_output().expect("wait");
    assert_eq!(done.status.code(), Some(130), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(containers_of(pid).is_empty(), "left behind: {:?}", containers_of(pid));
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let written: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line ({e}): {l}"))).collect();
    assert_eq!(written.len(), 1, "no line for an interrupted strategy: {text}");
    assert_eq!(written[0]["status"], "ok", "{text}");
}

/// Poll until `pid` has `n` containers (or a minute passes); the most seen.
fn wait_for_containers(pid: u32, n: usize) -> usize {
    let started = Instant::now();
    let mut most = 0;
    while most < n && started.elapsed() < Duration::from_secs(60) {
        most = most.max(containers_of(pid).len());
        std::thread::sleep(Duration::from_millis(100));
    }
    most
}

fn spawn_batch(dir: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_finsandbox"))
        .current_dir(crate::support::root())
        .env("FINSANDBOX_CONFIG", crate::support::root().join("tests/no-sweep.yaml"))
        .args(["--json", "batch"])
        .arg(dir)
        .arg("--data")
        .arg(market())
        .args(["--jobs", "1"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

#[test]
fn one_slot_keeps_its_next_container_warm_and_runs_each_strategy_in_its_own() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("a_slow.py"), format!("import time\ntime.sleep(6){TRIVIAL_TAIL}")).expect("write");
    for name in ["b_ok.py", "c_ok.py"] {
        std::fs::write(dir.path().join(name), format!("x = 1{TRIVIAL_TAIL}")).expect("write");
    }
    let child = spawn_batch(dir.path(), &[]);
    let pid = child.id();
    // One slot, yet two containers: the slow strategy's and the next one,
    // warmed up and held at READY.
    let most = wait_for_containers(pid, 2);
    let done = child.wait_with_output().expect("wait");
    assert_eq!(done.status.code(), Some(0), "{}", String::from_utf8_lossy(&done.stderr));
    assert_eq!(most, 2, "the next container was never started while the current strategy ran");
    let got = lines(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(got.len(), 3);
    let names: std::collections::BTreeSet<&str> =
        got.iter().map(|v| v["container"]["name"].as_str().unwrap_or("")).collect();
    assert_eq!(names.len(), 3, "a container per strategy: {names:?}");
    for v in &got {
        assert_eq!(v["status"], "ok", "{v}");
        // The warm-up is reported apart from the strategy's own time.
        assert!(v["startup_s"].as_f64().is_some_and(|s| s > 0.0), "{v}");
    }
    assert!(containers_of(pid).is_empty(), "left behind: {:?}", containers_of(pid));
}

#[test]
fn fail_fast_releases_the_warm_container_unused() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("a_fails.py"),
        "import time\ntime.sleep(4)\ndef strategy(data):\n    raise ValueError('bad idea')\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("b_ok.py"), format!("x = 1{TRIVIAL_TAIL}")).expect("write");
    let child = spawn_batch(dir.path(), &["--fail-fast"]);
    let pid = child.id();
    let most = wait_for_containers(pid, 2);
    let done = child.wait_with_output().expect("wait");
    assert_eq!(most, 2, "b's container was warm while a ran");
    let got = lines(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(got.len(), 1, "b never ran: {got:?}");
    assert_eq!(got[0]["status"], "strategy_error");
    assert!(containers_of(pid).is_empty(), "left behind: {:?}", containers_of(pid));
}

#[test]
fn jobs_strategies_run_at_once_and_lines_come_in_completion_order() {
    // Three slots, three strategies: all three run at once (none is held
    // warm behind another), so the shortest finishes first.
    let dir = tempfile::tempdir().expect("tmp");
    for (name, secs) in [("a_long.py", 8), ("b_mid.py", 4), ("c_short.py", 0)] {
        std::fs::write(dir.path().join(name), format!("import time\ntime.sleep({secs}){TRIVIAL_TAIL}")).expect("write");
    }
    let out = bin()
        .args(["--json", "batch"])
        .arg(dir.path())
        .arg("--data")
        .arg(market())
        .args(["--jobs", "3"])
        .output()
        .expect("batch");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let got = lines(&String::from_utf8_lossy(&out.stdout));
    let order: Vec<String> = got
        .iter()
        .map(|v| {
            let p = v["strategy"]["path"].as_str().unwrap_or("");
            Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        })
        .collect();
    let times: Vec<String> = got.iter().map(|v| format!("{} {}", v["startup_s"], v["execution_time_s"])).collect();
    assert_eq!(order, ["c_short.py", "b_mid.py", "a_long.py"], "startup_s execution_time_s: {times:?}");
}

#[test]
fn an_out_that_fills_up_stops_the_batch_and_leaves_nothing() {
    // /dev/full opens for appending and refuses every write (ENOSPC): the
    // first result that cannot be written stops the batch, with an input
    // error naming the file, instead of running every strategy for nothing.
    let dir = tempfile::tempdir().expect("tmp");
    for i in 0..6 {
        std::fs::write(dir.path().join(format!("s{i}.py")), TRIVIAL_TAIL).expect("write");
    }
    let child = bin()
        .args(["--json", "batch"])
        .arg(dir.path())
        .arg("--data")
        .arg(market())
        .args(["--jobs", "1", "--out", "/dev/full"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("batch");
    let pid = child.id();
    let out = child.wait_with_output().expect("batch");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{stdout}");
    let docs: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let error = docs.last().expect("the error document");
    assert_eq!(error["error"]["kind"], "input_error", "{stdout}");
    assert!(error["error"]["message"].as_str().unwrap_or("").contains("/dev/full"), "{stdout}");
    // The line that could not be written is on stdout (nothing lost), and
    // the batch stopped well before running all six.
    let results = docs.iter().filter(|d| d.get("provenance").is_some()).count();
    assert!((1..6).contains(&results), "{results} results before the stop: {stdout}");
    assert_eq!(containers_of(pid), Vec::<String>::new(), "containers left behind (running or warm)");
}
