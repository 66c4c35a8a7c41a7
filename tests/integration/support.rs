//! A small builder around the real binary, run from the project root so the
//! shipped config and seccomp profile are the ones under test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn market() -> PathBuf {
    root().join("examples/market.parquet")
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_finsandbox"));
    c.current_dir(root());
    // Tests run in parallel: a sweep at the start of one test's `exec` would
    // reap another test's deliberate orphan. The sweep has its own tests
    // (group `orphans` in .config/nextest.toml), which use the shipped config.
    c.env("FINSANDBOX_CONFIG", root().join("tests/no-sweep.yaml"));
    c.env("NO_COLOR", "1");
    c.stdin(Stdio::null());
    c
}

/// A strategy file in its own temporary directory.
pub struct Strategy {
    /// Holds the directory (and so the file) alive as long as the strategy.
    pub _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn strategy(source: &str) -> Strategy {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("strategy.py");
    std::fs::write(&path, source).expect("write strategy");
    Strategy { _dir: dir, path }
}

/// The finlab-style trivial position most probes return after their checks.
/// Every variable a strategy may find in its environment: what the product
/// sets (`HOME`, `LANG`, `PYTHONDONTWRITEBYTECODE`, the native thread
/// counts) and what the image and the engine add (`PATH`, `HOSTNAME`,
/// `LC_CTYPE`). Nothing of the host.
pub const SANDBOX_ENV: [&str; 8] = [
    "HOME",
    "LANG",
    "PATH",
    "PYTHONDONTWRITEBYTECODE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "HOSTNAME",
    "LC_CTYPE",
];

pub const TRIVIAL_TAIL: &str = "\n\ndef strategy(data):\n    return data.get('close') > 0\n";

pub struct Run {
    pub out: Output,
    pub json: Value,
}

impl Run {
    pub fn status(&self) -> &str {
        self.json["status"].as_str().unwrap_or("<none>")
    }
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout_text(&self) -> &str {
        self.json["stdout"]["text"].as_str().unwrap_or("")
    }
    /// The probe's report: the last stdout line that parses as JSON.
    pub fn probe(&self) -> Value {
        self.probe_opt().unwrap_or_else(|| panic!("no JSON line in the strategy's stdout: {}", self.describe()))
    }
    pub fn probe_opt(&self) -> Option<Value> {
        self.stdout_text().lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok().filter(Value::is_object))
    }
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}\nstdout: {}\nstderr: {}",
            self.out.status.code(),
            String::from_utf8_lossy(&self.out.stdout),
            String::from_utf8_lossy(&self.out.stderr)
        )
    }
}

/// `finsandbox exec STRATEGY --data market --json EXTRA...`
pub fn exec(source: &str, extra: &[&str]) -> Run {
    let s = strategy(source);
    exec_path(&s.path, extra)
}

/// `extra` may name its own `--data`; the example market is the default.
pub fn exec_path(path: &Path, extra: &[&str]) -> Run {
    let mut c = bin();
    c.arg("--json").arg("exec").arg(path);
    if !extra.contains(&"--data") {
        c.arg("--data").arg(market());
    }
    let out = c.args(extra).output().expect("run finsandbox");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let json: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!("stdout is not one JSON object ({e}):\n{text}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    let run = Run { out, json };
    if let (Some(name), Some(true)) =
        (run.json["container"]["name"].as_str(), run.json["container"]["removed"].as_bool())
    {
        let engine = run.json["container"]["engine"].as_str().unwrap_or("docker");
        assert!(!container_exists_in(engine, name), "container {name} was left behind in {engine}");
    }
    run
}

pub fn docker() -> Command {
    let mut c = Command::new("docker");
    c.stdin(Stdio::null());
    c
}

pub fn container_exists(name: &str) -> bool {
    container_exists_in("docker", name)
}

pub fn container_exists_in(engine: &str, name: &str) -> bool {
    let out = Command::new(engine)
        .stdin(Stdio::null())
        .args(["ps", "-a", "--quiet", "--filter", &format!("name=^{name}$")])
        .output()
        .expect("engine ps");
    assert!(out.status.success(), "{engine} ps failed: {}", String::from_utf8_lossy(&out.stderr));
    !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

/// Names of our containers owned by process `pid`.
pub fn containers_of(pid: u32) -> Vec<String> {
    let out = docker()
        .args(["ps", "-a", "--format", "{{.Names}}", "--filter", &format!("label=finsandbox.owner-pid={pid}")])
        .output()
        .expect("docker ps");
    assert!(out.status.success(), "docker ps failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
}

/// Podman is a supported engine; `.ci/run` installs it and loads the image.
pub fn require_podman() {
    let out = Command::new("podman")
        .stdin(Stdio::null())
        .args(["image", "exists", "finsandbox-runtime:1"])
        .output()
        .unwrap_or_else(|e| panic!("podman is not installed ({e}); `.ci/run` installs it"));
    assert!(
        out.status.success(),
        "podman has no finsandbox-runtime:1; load it: docker save finsandbox-runtime:1 | podman load"
    );
}
