//! The trusted warm-up runs at full speed; the strategy never does: the
//! host tightens the CPU quota, and reads it back, before any strategy byte
//! is sent, and fails closed when it cannot.

use std::os::unix::fs::PermissionsExt;

use crate::support::{exec, market, strategy, TRIVIAL_TAIL};

/// A strategy that reports the CPU quota of its own cgroup (v1 or v2).
fn quota_probe() -> String {
    format!(
        r#"
import json
def read(p):
    try:
        return open(p).read().split()
    except OSError:
        return None
v1 = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')
v2 = read('/sys/fs/cgroup/cpu.max')
if v1[0] and v1[1]:
    cpus = int(v1[0][0]) / int(v1[1][0])
else:
    cpus = int(v2[0]) / int(v2[1])
print(json.dumps({{"cpus": cpus}}))
{TRIVIAL_TAIL}"#
    )
}

#[test]
fn the_strategy_sees_the_configured_cpu_limit_never_the_warm_up_boost() {
    for cpus in ["0.5", "0.25"] {
        let run = exec(&quota_probe(), &["--skip-screening", "--cpus", cpus]);
        assert_eq!(run.status(), "ok", "{}", run.describe());
        let seen = run.probe()["cpus"].as_f64().unwrap_or(-1.0);
        assert!((seen - cpus.parse::<f64>().unwrap_or(0.0)).abs() < 1e-6, "--cpus {cpus}: the strategy saw {seen}");
        assert!(run.json["startup_s"].as_f64().is_some_and(|s| s > 0.0), "{}", run.json["startup_s"]);
        assert!(run.json["execution_time_s"].as_f64().is_some_and(|s| s > 0.0));
    }
}

#[test]
fn a_failed_cpu_update_fails_closed_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    // An engine whose `update` is refused: every other command is docker's.
    let wrapper = dir.path().join("docker");
    std::fs::write(&wrapper, "#!/bin/sh\nif [ \"$1\" = update ]; then echo 'update refused by policy' >&2; exit 1; fi\nexec /usr/bin/env docker \"$@\"\n")
        .expect("wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let s = strategy(&format!("print('this must never run')\nimport time\ntime.sleep(30){TRIVIAL_TAIL}"));
    let out = crate::support::bin()
        .args(["--json", "--engine"])
        .arg(&wrapper)
        .arg("exec")
        .arg(&s.path)
        .arg("--data")
        .arg(market())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("error JSON");
    let msg = v["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("CPU limit") && msg.contains("update refused"), "{msg}");
    // The message names the container; the guard must have removed it.
    let name = msg.split('`').nth(1).unwrap_or("");
    assert!(name.starts_with("finsandbox-"), "{msg}");
    assert!(!crate::support::container_exists(name), "{name} was left behind");
}

#[test]
fn in_a_batch_the_containers_held_warm_are_tightened_before_their_strategy() {
    let dir = tempfile::tempdir().expect("tmp");
    for i in 0..3 {
        std::fs::write(dir.path().join(format!("probe{i}.py")), quota_probe()).expect("write");
    }
    let out = crate::support::bin()
        .args(["--json", "batch"])
        .arg(dir.path())
        .arg("--data")
        .arg(market())
        .args(["--jobs", "1", "--cpus", "0.25", "--skip-screening"])
        .output()
        .expect("batch");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        assert_eq!(v["status"], "ok", "{v}");
        let printed = v["stdout"]["text"].as_str().unwrap_or("");
        let seen: serde_json::Value = serde_json::from_str(printed.trim()).expect("the probe's line");
        assert_eq!(seen["cpus"].as_f64(), Some(0.25), "{}: the strategy saw {seen}", v["strategy"]["path"]);
    }
}

/// A strategy that asks numpy's OpenBLAS how many threads it runs (the
/// library as loaded in the process, found in its maps), and reports the
/// thread variables it sees.
fn blas_threads_probe() -> String {
    format!(
        r#"
import ctypes, json, os
import numpy
libs = sorted({{l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l.lower()}})
lib = ctypes.CDLL(libs[0])
get = getattr(lib, 'openblas_get_num_threads64_', None) or getattr(lib, 'openblas_get_num_threads')
print(json.dumps({{"blas": get(), "openblas": os.environ.get("OPENBLAS_NUM_THREADS"), "omp": os.environ.get("OMP_NUM_THREADS")}}))
{TRIVIAL_TAIL}"#
    )
}

#[test]
fn blas_runs_no_more_threads_than_the_strategys_whole_cpus() {
    // At half a CPU the warm-up's imports (at the boost) must not start a
    // BLAS worker per host CPU: each costs start-up and spin in every
    // container, for a strategy that cannot use it. The runtime policy is
    // off only so the probe may use ctypes to ask OpenBLAS itself.
    let run = exec(&blas_threads_probe(), &["--skip-screening", "--no-runtime-policy", "--cpus", "0.5"]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    let p = run.probe();
    assert_eq!((p["blas"].as_u64(), &p["openblas"], &p["omp"]), (Some(1), &"1".into(), &"1".into()), "{p}");
    // With two whole CPUs the strategy may use two.
    let run = exec(&blas_threads_probe(), &["--skip-screening", "--no-runtime-policy", "--cpus", "2"]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert_eq!(run.probe()["blas"].as_u64(), Some(2), "{}", run.probe());
}
