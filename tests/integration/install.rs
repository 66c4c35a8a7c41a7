//! The installed binary on its own: copied out of the checkout into an
//! empty directory, with no config file anywhere and a bare environment, it
//! must run the example with the full hardening (the embedded profile, the
//! embedded harness and compat layer), and its config and profile commands
//! must say where everything comes from.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{market, root};

/// An empty working directory holding a copy of the binary, the example
/// strategy and the data, and a HOME with no config in it.
struct Elsewhere {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Elsewhere {
    fn new() -> Elsewhere {
        let dir = tempfile::tempdir().expect("tmp");
        let bin = dir.path().join("bin/finsandbox");
        std::fs::create_dir_all(bin.parent().expect("parent")).expect("mkdir");
        std::fs::copy(env!("CARGO_BIN_EXE_finsandbox"), &bin).expect("copy the binary");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        std::fs::create_dir_all(dir.path().join("work")).expect("work");
        std::fs::copy(root().join("examples/momentum.py"), dir.path().join("work/momentum.py")).expect("strategy");
        std::fs::copy(market(), dir.path().join("work/market.parquet")).expect("data");
        Elsewhere { dir, bin }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .current_dir(self.work())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run the copied binary")
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// The name puts it in the `orphans` test group: with no config, the
/// orphan sweep at the start of `exec` is on.
#[test]
fn installed_binary_runs_the_example_anywhere_with_full_hardening_and_orphan_sweep() {
    if Path::new(finsandbox::config::SYSTEM_CONFIG).exists() {
        panic!("{} exists on this machine: this test needs a host without one", finsandbox::config::SYSTEM_CONFIG);
    }
    let e = Elsewhere::new();
    let out = e.run(&["--json", "exec", "momentum.py", "--data", "market.parquet"]);
    let r = json(&out);
    assert_eq!(r["status"], "ok", "{r}");
    assert_eq!(r["limits"]["seccomp_profile"], "builtin", "{r}");
    assert_eq!(r["limits"]["network_mode"], "none");
    assert_eq!(r["limits"]["read_only"], true);
    assert_eq!(r["insecure"], false);
    assert!(r["metrics"]["sharpe_ratio"].is_number() || r["metrics"]["sharpe_ratio"].is_null(), "{r}");

    // The embedded profile is really in force inside the container.
    let probe = "import json\nstatus = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\nprint(json.dumps({'seccomp': status['Seccomp'].strip(), 'nnp': status['NoNewPrivs'].strip()}))\ndef strategy(data):\n    return data.get('close') > 0\n";
    std::fs::write(e.work().join("probe.py"), probe).expect("probe");
    let out = e.run(&["--json", "exec", "probe.py", "--data", "market.parquet", "--skip-screening"]);
    let r = json(&out);
    assert_eq!(r["status"], "ok", "{r}");
    let line = r["stdout"]["text"].as_str().unwrap_or("").lines().last().unwrap_or("").to_string();
    let p: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("no probe line: {r}"));
    assert_eq!(p["seccomp"], "2", "{p}");
    assert_eq!(p["nnp"], "1", "{p}");
}

#[test]
fn config_show_names_the_origin_of_each_value() {
    let e = Elsewhere::new();
    let out = e.run(&["--json", "config", "show"]);
    let r = json(&out);
    assert!(r["file"].is_null(), "no config anywhere: {r}");
    let origin = |key: &str| {
        r["settings"].as_array().and_then(|a| a.iter().find(|x| x["key"] == key)).map(|x| x["origin"].clone())
    };
    assert_eq!(origin("cpus"), Some("default".into()));
    std::fs::write(e.work().join("finsandbox.yaml"), "docker:\n  cpu_limit: 1.5\n").expect("write");
    let mut c = Command::new(&e.bin);
    c.args(["--json", "config", "show"]).current_dir(e.work()).env_clear().env("FINSANDBOX_TIMEOUT", "77");
    let out = c.stdin(Stdio::null()).output().expect("run");
    let r = json(&out);
    assert_eq!(r["found_by"], "./finsandbox.yaml", "{r}");
    let find = |key: &str| r["settings"].as_array().and_then(|a| a.iter().find(|x| x["key"] == key)).cloned();
    let cpus = find("cpus").expect("cpus");
    assert_eq!(
        (cpus["value"].as_str(), cpus["origin"].as_str().map(|o| o.contains("finsandbox.yaml"))),
        (Some("1.5"), Some(true))
    );
    let t = find("timeout_seconds").expect("timeout");
    assert_eq!((t["value"].as_str(), t["origin"].as_str()), (Some("77"), Some("environment `FINSANDBOX_TIMEOUT`")));
}

#[test]
fn config_init_writes_a_file_that_restates_the_defaults_and_never_overwrites() {
    let e = Elsewhere::new();
    let out = e.run(&["config", "init"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(e.work().join("finsandbox.yaml")).expect("written");
    assert!(written.contains("seccomp_profile: \"builtin\""), "{written}");
    let shown = json(&e.run(&["--json", "config", "show"]));
    assert_eq!(shown["found_by"], "./finsandbox.yaml");
    let again = e.run(&["config", "init"]);
    assert_eq!(again.status.code(), Some(2), "an existing file is not overwritten");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(e.run(&["config", "init", "--force"]).status.success());
}

#[test]
fn seccomp_show_prints_the_embedded_profile_and_version_names_its_hash() {
    let e = Elsewhere::new();
    let out = e.run(&["seccomp", "show"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let shipped = std::fs::read_to_string(root().join("seccomp/finsandbox.json")).expect("shipped profile");
    assert_eq!(text, shipped, "the embedded profile is the checked-in one");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    let version = String::from_utf8_lossy(&e.run(&["--version"]).stdout).to_string();
    let sha = finsandbox::host::hex_sha256(shipped.as_bytes());
    assert!(version.contains(&sha) && version.contains("commit "), "{version}");
}
