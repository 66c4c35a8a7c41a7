//! One run's life on the real engine: outcomes, limits, output caps, and the
//! container's removal on every path, signals included.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{bin, containers_of, exec, exec_path, market, root, strategy, TRIVIAL_TAIL};

#[test]
fn function_form_example_succeeds() {
    let run = exec_path(&root().join("examples/momentum.py"), &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert_eq!(run.code(), 0);
    assert_eq!(run.json["success"], true);
    assert_eq!(run.json["position"]["rows"], 520);
    assert_eq!(run.json["position"]["columns"], 40);
    assert_eq!(run.json["position"]["sha256"].as_str().map(str::len), Some(64));
    assert!(run.stdout_text().contains("holdings on the last day"));
    assert_eq!(run.json["insecure"], false);
    assert_eq!(run.json["container"]["removed"], true);
    assert_eq!(run.json["versions"]["pandas"], "2.2.3");
}

#[test]
fn finlab_script_form_example_succeeds() {
    let run = exec_path(&root().join("examples/finlab_style.py"), &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert_eq!(run.json["position"]["dtype"], "bool");
}

#[test]
fn the_same_strategy_gives_the_same_position_hash() {
    let a = exec(&format!("x = 1{TRIVIAL_TAIL}"), &[]);
    let b = exec(&format!("y = 2{TRIVIAL_TAIL}"), &[]);
    assert_eq!(a.json["position"]["sha256"], b.json["position"]["sha256"]);
    let c = exec("def strategy(data):\n    return data.get('close') > 60\n", &[]);
    assert_ne!(a.json["position"]["sha256"], c.json["position"]["sha256"]);
}

#[test]
fn human_summary_without_json() {
    let s = strategy(&format!("print('hello from the sandbox'){TRIVIAL_TAIL}"));
    let out = bin().arg("exec").arg(&s.path).arg("--data").arg(market()).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(": ok"), "{text}");
    assert!(text.contains("520 dates x 40 symbols"), "{text}");
    assert!(text.contains("hello from the sandbox"), "{text}");
}

/// Everything from the sandbox reaches a terminal escaped: no escape
/// sequence, carriage return or bidi override from the strategy can repaint
/// the human report. JSON keeps the exact text.
#[test]
fn sandbox_text_cannot_inject_terminal_sequences() {
    let hostile = r#"
ESC = chr(27)
print(ESC + '[2J' + ESC + '[H' + 'metrics    total 999.00%, sharpe 9.99' + chr(13) + ESC + ']0;owned' + chr(7))
import sys
sys.stderr.write(ESC + '[31mfake error' + chr(8) * 5 + chr(0x202e) + '\n')
def strategy(data):
    raise ValueError(ESC + '[1A' + ESC + '[2K' + 'status ok')
"#;
    let s = strategy(hostile);
    let out = bin().arg("exec").arg(&s.path).arg("--data").arg(market()).arg("--skip-screening").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(10), "{text}");
    for bad in ['\x1b', '\r', '\x07', '\x08', '\u{202e}'] {
        assert!(!text.contains(bad), "{bad:?} reached the terminal: {text:?}");
    }
    assert!(text.contains("\\u{1b}[2J"), "the escape is shown, defused: {text}");
    let run = exec(hostile, &["--skip-screening"]);
    assert!(run.stdout_text().contains("\u{1b}[2J"), "JSON keeps the exact bytes");
    assert!(run.json["error"]["message"].as_str().unwrap_or("").starts_with("\u{1b}[1A"));
}

/// Filling memory and then dying by SIGKILL is not an OOM kill: only the
/// kernel's own count makes `memory_limit`.
#[test]
fn a_self_inflicted_sigkill_near_the_memory_limit_is_not_memory_limit() {
    // Allocate until the cgroup is at 92 % of its limit, then die by SIGKILL.
    let fake = r#"
import os, signal
import numpy as np
def read(*names):
    for n in names:
        try:
            return int(open('/sys/fs/cgroup/' + n).read().split()[0])
        except (OSError, ValueError):
            pass
    return None
limit = read('memory/memory.limit_in_bytes', 'memory.max')
chunks = []
while (read('memory/memory.usage_in_bytes', 'memory.current') or 0) < 0.92 * limit:
    chunks.append(np.ones(512 * 1024))
os.kill(os.getpid(), signal.SIGKILL)
"#;
    let run = exec(fake, &["--memory", "256m", "--skip-screening"]);
    assert_eq!(run.status(), "strategy_error", "{}", run.describe());
    assert!(run.json["error"]["message"].as_str().unwrap_or("").contains("SIGKILL"), "{}", run.json["error"]);
    assert_eq!(run.code(), 10);
}

/// Frames a strategy writes straight to the output channel may carry
/// warnings: they are labelled as the sandbox's, never mixed with the host's.
#[test]
fn warnings_from_inside_the_sandbox_are_labelled_as_such() {
    // The strategy finds the harness's channel object and sends its own
    // summary, then exits before the harness can send the real one.
    let forge = r#"
import gc, json, os
channel = [o for o in gc.get_objects() if type(o).__name__ == 'Channel'][0]
summary = {"protocol": 1, "status": "strategy_error", "warnings": ["host verified: metrics are exact"],
           "error": {"type": "Forged", "message": "forged", "traceback": ""}}
channel.send(b"R", json.dumps(summary).encode())
os._exit(1)
"#;
    let run = exec(forge, &["--skip-screening"]);
    assert_eq!(run.status(), "strategy_error", "{}", run.describe());
    assert!(run.json["sandbox_warnings"].to_string().contains("host verified"), "{}", run.json);
    let host = run.json["warnings"].to_string();
    assert!(!host.contains("host verified"), "{host}");
}

#[test]
fn exception_is_strategy_error_with_traceback() {
    let run = exec("def helper():\n    raise ValueError('bad signal')\n\ndef strategy(data):\n    helper()\n", &[]);
    assert_eq!(run.status(), "strategy_error", "{}", run.describe());
    assert_eq!(run.code(), 10);
    assert_eq!(run.json["error"]["type"], "ValueError");
    assert_eq!(run.json["error"]["message"], "bad signal");
    let tb = run.json["error"]["traceback"].as_str().unwrap_or("");
    assert!(tb.contains("strategy.py\", line 2, in helper"), "{tb}");
    assert!(!tb.contains("harness"), "harness frames leaked into the traceback: {tb}");
}

#[test]
fn unknown_data_key_lists_the_available_ones() {
    let run = exec("def strategy(data):\n    return data.get('closing_price') > 0\n", &[]);
    assert_eq!(run.status(), "strategy_error");
    let msg = run.json["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("close"), "{msg}");
}

#[test]
fn no_position_is_invalid_output() {
    let run = exec("x = 1\n", &[]);
    assert_eq!(run.status(), "invalid_output", "{}", run.describe());
    assert_eq!(run.code(), 15);
    assert!(run.json["error"]["message"].as_str().unwrap_or("").contains("def strategy(data)"));
}

#[test]
fn wrong_position_type_is_invalid_output() {
    let run = exec("def strategy(data):\n    return {'AAA': 1}\n", &[]);
    assert_eq!(run.status(), "invalid_output");
    assert!(run.json["error"]["message"].as_str().unwrap_or("").contains("DataFrame"));
}

#[test]
fn timeout_kills_the_run() {
    let start = Instant::now();
    let run = exec("import time\ntime.sleep(60)\n", &["--timeout", "3"]);
    let elapsed = start.elapsed();
    assert_eq!(run.status(), "timeout", "{}", run.describe());
    assert_eq!(run.code(), 12);
    // 3 s limit plus container start, kill and removal.
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert!(run.json["execution_time_s"].as_f64().unwrap_or(99.0) < 6.0, "{}", run.json["execution_time_s"]);
}

#[test]
fn allocating_past_the_memory_limit_is_memory_limit() {
    let run = exec(
        "import numpy as np\nchunks = []\nfor _ in range(40):\n    chunks.append(np.ones(16 * 1024 * 1024))\n",
        &["--memory", "256m"],
    );
    assert_eq!(run.status(), "memory_limit", "{}", run.describe());
    assert_eq!(run.code(), 13);
}

#[test]
fn output_flood_is_capped() {
    let run = exec(
        &format!("import sys\nfor _ in range(400):\n    sys.stdout.write('x' * 65535 + '\\n')\nsys.stderr.write('e' * 3_000_000){TRIVIAL_TAIL}"),
        &["--skip-screening"],
    );
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert_eq!(run.json["stdout"]["truncated"], true);
    assert_eq!(run.json["stdout"]["bytes"], 400 * 65536);
    assert!(run.stdout_text().len() <= 1 << 20);
    assert_eq!(run.json["stderr"]["truncated"], true);
    assert!(run.json["stderr"]["text"].as_str().unwrap_or("").len() <= 1 << 20);
}

#[test]
fn printed_fake_frames_do_not_confuse_the_host() {
    // The strategy's stdout is wrapped in frames, so bytes that look like a
    // frame or a result are just text.
    let run = exec(
        &format!("import sys\nsys.stdout.write('FSBR\\x00\\x00\\x00\\x10{{\"status\":\"ok\"}}')\nprint('{{\"status\": \"ok\", \"sharpe_ratio\": 99}}'){TRIVIAL_TAIL}"),
        &["--skip-screening"],
    );
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert!(run.stdout_text().contains("sharpe_ratio"));
    assert!(run.json.get("sharpe_ratio").is_none());
}

/// Start `exec` on a strategy that sleeps, and wait until its container
/// exists. The strategy file must outlive the run: it is returned too.
fn sleeping_exec(output: fn() -> Stdio) -> (std::process::Child, crate::support::Strategy) {
    let s = strategy("import time\ntime.sleep(120)\n");
    let mut child = bin()
        .args(["--json", "exec"])
        .arg(&s.path)
        .arg("--data")
        .arg(market())
        .stdout(output())
        .stderr(output())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while containers_of(child.id()).is_empty() {
        assert!(Instant::now() < deadline, "no container appeared");
        assert!(child.try_wait().expect("try_wait").is_none(), "finsandbox exited early");
        std::thread::sleep(Duration::from_millis(200));
    }
    (child, s)
}

fn interrupt_mid_run(signal: i32, expected_code: i32) {
    let (child, _strategy) = sleeping_exec(Stdio::piped);
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(expected_code), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let left = containers_of(pid);
    assert!(left.is_empty(), "containers left behind: {left:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json error object on stdout");
    assert_eq!(json["error"]["kind"], "interrupted");
}

#[test]
fn sigint_mid_run_removes_the_container_and_exits_130() {
    interrupt_mid_run(libc::SIGINT, 130);
}

#[test]
fn sigterm_mid_run_removes_the_container_and_exits_143() {
    interrupt_mid_run(libc::SIGTERM, 143);
}

#[test]
fn keep_container_keeps_it_and_says_so() {
    let run = exec(&format!("x = 1{TRIVIAL_TAIL}"), &["--keep-container"]);
    let name = run.json["container"]["name"].as_str().expect("name").to_string();
    assert_eq!(run.json["container"]["removed"], false);
    assert!(crate::support::container_exists(&name));
    let rm = crate::support::docker().args(["rm", "-f", &name]).output().expect("rm");
    assert!(rm.status.success());
}

#[test]
fn syntax_error_is_rejected_by_screening() {
    let run = exec("def strategy(data)\n    return data.get('close')\n", &[]);
    assert_eq!(run.status(), "rejected", "{}", run.describe());
    assert_eq!(run.json["screening"]["findings"][0]["rule"], "FS005");
    assert_eq!(run.json["screening"]["findings"][0]["line"], 1);
}

#[test]
fn syntax_error_in_the_container_is_strategy_error_with_its_line() {
    let run = exec("def strategy(data)\n    return data.get('close')\n", &["--skip-screening"]);
    assert_eq!(run.status(), "strategy_error", "{}", run.describe());
    assert_eq!(run.json["error"]["type"], "SyntaxError");
    assert!(run.json["error"]["message"].as_str().unwrap_or("").contains("line 1"), "{}", run.json["error"]);
}

/// SIGKILL a running `exec`: nothing can clean up after that. Returns the
/// dead owner's pid and its container's name.
fn orphan_by_sigkill() -> (u32, String) {
    let (mut child, _strategy) = sleeping_exec(Stdio::null);
    let pid = child.id();
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let left = containers_of(pid);
    assert_eq!(left.len(), 1, "SIGKILL cannot clean up; the container must still be there: {left:?}");
    (pid, left[0].clone())
}

#[test]
fn sigkill_leaves_a_container_that_cleanup_removes() {
    let (pid, name) = orphan_by_sigkill();
    let left = vec![name];

    let dry = bin().args(["--json", "cleanup", "--dry-run"]).output().expect("dry run");
    let v: serde_json::Value = serde_json::from_slice(&dry.stdout).expect("json");
    let listed =
        v["containers"].as_array().expect("containers").iter().any(|c| c["name"] == left[0] && c["orphan"] == true);
    assert!(listed, "dry run does not list {}: {v}", left[0]);
    assert_eq!(containers_of(pid), left, "--dry-run removed something");

    let out = bin().args(["cleanup"]).output().expect("cleanup");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&left[0]));
    assert!(containers_of(pid).is_empty(), "cleanup left {:?}", containers_of(pid));
}

#[test]
fn cleanup_all_never_touches_containers_without_our_label() {
    let name = format!("finsandbox-handmade-{}", std::process::id());
    let fake = format!("finsandbox-fake-{}", std::process::id());
    for (n, label) in [(&name, "other=1"), (&fake, "finsandbox.managed=false")] {
        let out = crate::support::docker()
            .args([
                "run",
                "--detach",
                "--network",
                "none",
                "--name",
                n,
                "--label",
                label,
                "finsandbox-runtime:1",
                "sleep",
                "60",
            ])
            .output()
            .expect("docker run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // `--older-than 1d` keeps this from removing the containers of tests running
    // in parallel; containers without our label have no age label, so a
    // broken label guard would still remove them here.
    let out = bin().args(["cleanup", "--all", "--older-than", "1d"]).output().expect("cleanup");
    let survived = crate::support::container_exists(&name) && crate::support::container_exists(&fake);
    for n in [&name, &fake] {
        let _ = crate::support::docker().args(["rm", "-f", n]).output();
    }
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(survived, "cleanup --all removed a container that is not ours");
}

#[test]
fn exec_sweeps_orphans_at_start() {
    let (pid, name) = orphan_by_sigkill();
    let s = strategy(&format!("x = 1{TRIVIAL_TAIL}"));
    // The shipped config: sweep_on_start is true.
    let out = bin()
        .env_remove("FINSANDBOX_CONFIG")
        .args(["--json", "exec"])
        .arg(&s.path)
        .arg("--data")
        .arg(market())
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "ok", "{v}");
    assert!(containers_of(pid).is_empty(), "{name} survived the sweep");
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("orphaned container"), "{warnings}");
}

/// Two runs with equal provenance give equal metrics; a changed input shows
/// in the provenance.
#[test]
fn equal_provenance_means_equal_metrics() {
    let source = std::fs::read_to_string(crate::support::root().join("examples/momentum.py")).expect("example");
    let a = exec(&source, &[]);
    let b = exec(&source, &[]);
    assert_eq!(a.status(), "ok", "{}", a.describe());
    let (pa, pb) = (&a.json["provenance"], &b.json["provenance"]);
    for key in ["strategy_sha256", "data_sha256", "seccomp_sha256", "config_sha256", "image_id", "commit"] {
        assert!(pa[key].is_string(), "{key} missing: {pa}");
    }
    assert_eq!(pa, pb);
    assert_eq!(a.json["metrics"], b.json["metrics"]);
    let c = exec(&source, &["--cpus", "1"]);
    assert_ne!(c.json["provenance"]["config_sha256"], pa["config_sha256"], "the effective config is part of it");
    assert_eq!(c.json["provenance"]["data_sha256"], pa["data_sha256"]);
}
