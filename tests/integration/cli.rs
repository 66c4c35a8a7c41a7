//! The command line's contract for bad input: exit codes and messages that
//! say what to do. Apart from the engine checks, nothing here starts a
//! container.

use std::time::{Duration, Instant};

use crate::support::{bin, market, strategy, TRIVIAL_TAIL};

fn run_exec(extra_env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let s = strategy(&format!("x = 1{TRIVIAL_TAIL}"));
    let mut c = bin();
    c.arg("exec").arg(&s.path);
    for a in args {
        c.arg(a);
    }
    for (k, v) in extra_env {
        c.env(k, v);
    }
    let out = c.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn data_arg() -> String {
    market().display().to_string()
}

#[test]
fn missing_data_file_is_an_input_error() {
    let (code, _, err) = run_exec(&[], &["--data", "/nonexistent/market.parquet"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("data file") && err.contains("hint:"), "{err}");
}

#[test]
fn csv_data_file_is_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("prices.csv");
    std::fs::write(&p, "date,symbol,close\n2024-01-02,AAA,1\n").expect("write");
    let (code, _, err) = run_exec(&[], &["--data", p.to_str().expect("utf8")]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("not a Parquet file"), "{err}");
}

#[test]
fn missing_strategy_is_an_input_error() {
    let out = bin().args(["exec", "/nonexistent/strategy.py", "--data"]).arg(market()).output().expect("run");
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn binary_strategy_is_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("s.py");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x41]).expect("write");
    let out = bin().arg("exec").arg(&p).arg("--data").arg(market()).output().expect("run");
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UTF-8"));
}

#[test]
fn unknown_config_key_is_a_usage_error_naming_key_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "docker:\n  memroy_limit: 1g\n").expect("write");
    let (code, _, err) = run_exec(&[], &["--data", &data_arg(), "--config", cfg.to_str().expect("utf8")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("memroy_limit") && err.contains("bad.yaml"), "{err}");
}

#[test]
fn disabled_sandbox_is_refused() {
    let (code, _, err) = run_exec(&[("DOCKER_SANDBOX_ENABLED", "false")], &["--data", &data_arg()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("never runs strategies outside the container"), "{err}");
}

#[test]
fn network_bridge_is_refused_without_allow_insecure() {
    let (code, _, err) = run_exec(&[], &["--data", &data_arg(), "--network", "bridge"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--allow-insecure"), "{err}");
}

#[test]
fn missing_engine_binary_is_engine_unavailable() {
    let (code, out, err) = run_exec(&[], &["--data", &data_arg(), "--engine", "/nonexistent/docker"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(out.is_empty());
}

#[test]
fn engine_that_does_not_answer_fails_within_five_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("docker");
    std::fs::write(&fake, "#!/bin/sh\nsleep 30\n").expect("write");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let start = Instant::now();
    let (code, _, err) = run_exec(&[], &["--data", &data_arg(), "--engine", fake.to_str().expect("utf8")]);
    assert_eq!(code, 3, "{err}");
    assert!(start.elapsed() < Duration::from_secs(8), "took {:?}", start.elapsed());
    assert!(err.contains("does not answer"), "{err}");
}

#[test]
fn stopped_daemon_is_engine_unavailable_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("docker");
    std::fs::write(&fake, "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n")
        .expect("write");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let (code, _, err) = run_exec(&[], &["--data", &data_arg(), "--engine", fake.to_str().expect("utf8")]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("Cannot connect") && err.contains("start the engine"), "{err}");
}

#[test]
fn json_errors_are_one_json_object_on_stdout() {
    let s = strategy("x = 1\n");
    let out =
        bin().args(["--json", "exec"]).arg(&s.path).args(["--data", "/nonexistent.parquet"]).output().expect("run");
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert_eq!(v["success"], false);
    assert_eq!(v["error"]["kind"], "input_error");
    assert_eq!(v["exit_code"], 4);
}

#[test]
fn usage_error_exits_2() {
    let out = bin().args(["exec"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_and_man_page_generate() {
    for args in [&["generate", "completions", "bash"][..], &["generate", "man"][..]] {
        let out = bin().args(args).output().expect("run");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("finsandbox"));
    }
}

#[test]
fn checked_in_completions_and_man_page_are_current() {
    let root = crate::support::root();
    for (args, file) in [
        (&["generate", "completions", "bash"][..], "completions/finsandbox.bash"),
        (&["generate", "completions", "zsh"][..], "completions/_finsandbox"),
        (&["generate", "completions", "fish"][..], "completions/finsandbox.fish"),
        (&["generate", "man"][..], "man/finsandbox.1"),
    ] {
        let out = bin().args(args).output().expect("run");
        let checked_in = std::fs::read(root.join(file)).unwrap_or_default();
        assert!(out.stdout == checked_in, "{file} is stale: regenerate with `finsandbox {}`", args.join(" "));
    }
}

/// A path the user names (strategy, `--config`, `--seccomp-profile`) that is
/// a device, a FIFO or a directory is refused at once with its exit code:
/// never an unbounded read of `/dev/zero`, never a hang on a FIFO.
#[test]
fn hostile_host_paths_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf8")).expect("cstring");
    // SAFETY: a valid NUL-terminated path; mkfifo has no other preconditions.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let fifo = fifo.display().to_string();
    let strategy_file = strategy(&format!("x = 1{TRIVIAL_TAIL}"));
    let s = strategy_file.path.display().to_string();
    let data = data_arg();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["exec", "/dev/zero", "--data", &data], 4),
        (vec!["exec", &fifo, "--data", &data], 4),
        (vec!["exec", "/tmp", "--data", &data], 4),
        (vec!["exec", &s, "--data", &data, "--config", "/dev/zero"], 2),
        (vec!["exec", &s, "--data", &data, "--config", &fifo], 2),
        (vec!["exec", &s, "--data", &data, "--seccomp-profile", "/dev/zero"], 2),
        (vec!["exec", &s, "--data", &data, "--seccomp-profile", &fifo], 2),
        (vec!["validate", &fifo], 4),
        (vec!["validate", "/dev/zero"], 4),
    ];
    for (args, want) in cases {
        let mut child = bin().arg("--json").args(&args).stdout(std::process::Stdio::piped()).spawn().expect("spawn");
        let started = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("{args:?} hung");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().expect("output");
        assert_eq!(status.code(), Some(want), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON error document");
        assert_eq!(v["exit_code"], want, "{v}");
        assert!(v["error"]["message"].as_str().unwrap_or("").contains("not a regular file"), "{v}");
    }
}
