//! The runtime monitor on the real engine: policy kills, resource figures, and
//! no `docker stats` child left behind.

use crate::support::{exec, root, TRIVIAL_TAIL};

fn fast_policy() -> String {
    root().join("tests/monitor-fast.yaml").display().to_string()
}

#[test]
fn sustained_cpu_spin_is_killed_by_policy() {
    let spin = "import time\nt = time.time()\nx = 0\nwhile time.time() - t < 60:\n    x += 1\n";
    let run = exec(spin, &["--config", &fast_policy()]);
    assert_eq!(run.status(), "killed", "{}", run.describe());
    assert_eq!(run.code(), 14);
    let v = &run.json["violations"][0];
    assert_eq!(v["rule"], "cpu_sustained", "{}", run.json["violations"]);
    // Normalised to the 0.5-CPU limit: a spinning loop is near 100%, not 50%.
    assert!(v["observed"].as_f64().unwrap_or(0.0) > 80.0, "{v}");
}

#[test]
fn too_many_threads_is_killed_by_policy() {
    let threads = "import threading, time\nev = threading.Event()\nts = [threading.Thread(target=ev.wait) for _ in range(60)]\nfor t in ts:\n    t.start()\ntime.sleep(30)\n";
    let run = exec(threads, &["--config", &fast_policy(), "--skip-screening"]);
    assert_eq!(run.status(), "killed", "{}", run.describe());
    assert!(run.json["violations"].to_string().contains("\"pids\""), "{}", run.json["violations"]);
    assert!(run.json["resources"]["pids_peak"].as_u64().unwrap_or(0) >= 30);
}

#[test]
fn resource_figures_are_reported() {
    let alloc =
        format!("import numpy as np\nblock = np.ones(40 * 1024 * 1024 // 8 * 8)\nblock[::4096] = 2.0\n{TRIVIAL_TAIL}");
    let run = exec(&alloc, &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    let peak = run.json["memory_peak_mb"].as_f64().expect("memory_peak_mb");
    // 320 MiB of float64 ones, touched: the peak must show it whatever its source.
    assert!(peak > 300.0, "peak {peak} MB from {}", run.json["memory_peak_source"]);
    assert!(run.json["memory_peak_source"].is_string());
    assert!(run.json["resources"]["samples"].as_u64().is_some());
}

#[test]
fn no_stats_process_outlives_the_run() {
    let run = exec(&format!("x = 1{TRIVIAL_TAIL}"), &[]);
    let name = run.json["container"]["name"].as_str().expect("name").to_string();
    let ps = std::process::Command::new("ps").args(["-eo", "args"]).output().expect("ps");
    let leftover: Vec<String> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains("stats") && l.contains(&name))
        .map(str::to_string)
        .collect();
    assert!(leftover.is_empty(), "docker stats still running: {leftover:?}");
}

/// Using the CPU quota the kernel already enforces is not a violation: at
/// the default policy a 30 s CPU-bound strategy runs to its end.
#[test]
fn a_cpu_bound_30_second_strategy_is_not_killed_at_the_default_policy() {
    let spin = "import time\nt = time.time()\nx = 0\nwhile time.time() - t < 30:\n    x += 1\ndef strategy(data):\n    return data.get('close') > 0\n";
    let run = exec(spin, &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    let v = &run.json["violations"];
    assert!(v.as_array().is_some_and(|a| a.iter().all(|x| x["action"] == "warn")), "{v}");
}

/// With `cpu_action: warn` (the default) a CPU rule that fires is recorded
/// once, with a warning, and the run goes on.
#[test]
fn a_cpu_rule_set_to_warn_records_and_lets_the_run_finish() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("warn.yaml");
    std::fs::write(
        &cfg,
        "cleanup:\n  sweep_on_start: false\nmonitoring:\n  max_cpu_percent: 10\n  cpu_window_seconds: 1\n  cpu_action: warn\n",
    )
    .expect("config");
    let spin = "import time\nt = time.time()\nx = 0\nwhile time.time() - t < 8:\n    x += 1\ndef strategy(data):\n    return data.get('close') > 0\n";
    let run = exec(spin, &["--config", cfg.to_str().expect("utf8")]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    let v = run.json["violations"].as_array().cloned().unwrap_or_default();
    let cpu: Vec<_> = v.iter().filter(|x| x["rule"] == "cpu_sustained").collect();
    assert_eq!(cpu.len(), 1, "recorded once: {v:?}");
    assert_eq!(cpu[0]["action"], "warn");
    assert!(run.json["warnings"].to_string().contains("recorded, not killed"), "{}", run.json["warnings"]);
}
