use super::*;

/// A real result, from the builder a rejected strategy gets; the
/// fields under test are then set as a run would.
fn result(status: Status, container: bool) -> RunResult {
    let settings = crate::config::Settings::default();
    let engine = crate::engine::Engine { program: PathBuf::from("docker") };
    let req =
        crate::run::Request::new(Path::new("s.py"), Path::new("d.parquet"), &settings, &engine, Default::default());
    let screening = crate::report::ScreeningInfo { skipped: false, findings: Vec::new(), elapsed_ms: 0.0 };
    let mut r = crate::run::rejected(&req, "x = 1\n", screening);
    r.status = status;
    if container {
        r.container = Some(crate::report::ContainerInfo {
            name: "finsandbox-x".into(),
            image: "i".into(),
            image_id: None,
            runtime: "runc".into(),
            engine: "docker".into(),
            engine_version: "1".into(),
            removed: true,
        });
    }
    r
}

fn sample_of(status: Status) -> RunResult {
    result(status, true)
}

#[test]
fn counters_add_up_and_render_with_help_and_type() {
    let mut s = State::new();
    let mut ok = sample_of(Status::Ok);
    ok.execution_time_s = 1.5;
    ok.startup_s = Some(0.8);
    ok.memory_peak_mb = Some(100.0);
    s.record_run(&Outcome::Result(&ok), 10);
    s.record_run(&Outcome::Result(&ok), 20);
    s.record_run(&Outcome::Error, 30);
    let text = render(&s);
    assert!(text.contains("finsandbox_runs_total{status=\"ok\"} 2\n"), "{text}");
    assert!(text.contains("finsandbox_runs_total{status=\"error\"} 1\n"), "{text}");
    assert!(text.contains("finsandbox_runs_total{status=\"timeout\"} 0\n"), "{text}");
    assert!(text.contains("finsandbox_run_duration_seconds_bucket{le=\"1\"} 0\n"), "{text}");
    assert!(text.contains("finsandbox_run_duration_seconds_bucket{le=\"2\"} 2\n"), "{text}");
    assert!(text.contains("finsandbox_run_duration_seconds_sum 3\n"), "{text}");
    assert!(text.contains("finsandbox_run_startup_seconds_bucket{le=\"1\"} 2\n"), "{text}");
    assert!(text.contains("finsandbox_run_memory_peak_bytes_bucket{le=\"134217728\"} 2\n"), "{text}");
    assert!(text.contains("finsandbox_run_memory_peak_bytes_bucket{le=\"67108864\"} 0\n"), "{text}");
    assert!(text.contains("finsandbox_last_run_status{status=\"error\"} 1\n"), "{text}");
    assert!(text.contains("finsandbox_last_run_timestamp_seconds 30\n"), "{text}");
    // Every sample's metric has HELP and TYPE before it.
    let mut declared = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            declared.insert(rest.split(' ').next().unwrap_or_default().to_string());
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|b| declared.contains(*b)))
                .unwrap_or(name);
            assert!(declared.contains(base), "`{name}` has no TYPE before it");
            assert!(NAMES.iter().any(|(n, _)| *n == base), "`{base}` is not in NAMES");
        }
    }
}

#[test]
fn rejections_count_each_rule_once_per_run_and_violations_by_action() {
    let mut s = State::new();
    let mut r = result(Status::Rejected, false);
    // Real findings: two imports (FS001) and a dunder walk (FS003).
    r.screening.findings =
        crate::screen::screen(b"import os\nimport subprocess\nx = ().__class__\n", &crate::screen::Policy::default());
    assert_eq!(r.screening.findings.len(), 3, "{:?}", r.screening.findings);
    s.record_run(&Outcome::Result(&r), 1);
    let mut k = sample_of(Status::Killed);
    k.violations = vec![
        crate::monitor::Violation { rule: "pids", action: "kill", observed: 95.0, threshold: 90.0, at_s: 1.0 },
        crate::monitor::Violation {
            rule: "cpu_sustained",
            action: "warn",
            observed: 99.0,
            threshold: 95.0,
            at_s: 16.0,
        },
    ];
    s.record_run(&Outcome::Result(&k), 2);
    let text = render(&s);
    assert!(text.contains("finsandbox_screening_rejections_total{rule=\"FS001\"} 1\n"), "{text}");
    assert!(text.contains("finsandbox_screening_rejections_total{rule=\"FS003\"} 1\n"), "{text}");
    assert!(!text.contains("rule=\"FS002\""), "{text}");
    assert!(text.contains("finsandbox_monitor_violations_total{rule=\"pids\",action=\"kill\"} 1\n"), "{text}");
    assert!(text.contains("finsandbox_monitor_violations_total{rule=\"cpu_sustained\",action=\"warn\"} 1\n"), "{text}");
    // A rejected run started no container: no duration observation.
    assert!(text.contains("finsandbox_run_duration_seconds_count 1\n"), "{text}");
}

#[test]
fn cleanup_sets_the_gauge_and_adds_to_the_reaped_counter() {
    let mut s = State::new();
    assert!(!render(&s).contains("finsandbox_orphans "), "no gauge before any cleanup");
    s.record_cleanup(5, 4, 100);
    s.record_cleanup(2, 2, 200);
    let text = render(&s);
    assert!(text.contains("finsandbox_orphans 2\n"), "{text}");
    assert!(text.contains("finsandbox_orphans_reaped_total 6\n"), "{text}");
    assert!(text.contains("finsandbox_cleanup_last_timestamp_seconds 200\n"), "{text}");
}

#[test]
fn the_state_round_trips_and_other_bounds_restart_a_histogram() {
    let mut s = State::new();
    s.record_run(&Outcome::Result(&sample_of(Status::Ok)), 1);
    let back: State = serde_json::from_str(&serde_json::to_string(&s).expect("json")).expect("parses");
    assert_eq!(back, s);
    let mut h = Histogram { bounds: vec![1.0], counts: vec![3, 4], sum: 9.0, count: 7 };
    h.observe(&[2.0, 5.0], 3.0);
    assert_eq!((h.counts, h.count), (vec![0, 1, 0], 1));
}

#[test]
fn labels_are_escaped() {
    assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

#[test]
fn update_writes_the_file_atomically_and_sets_a_bad_state_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = sample_of(Status::Ok);
    for t in 0..3 {
        update(dir.path(), |s| s.record_run(&Outcome::Result(&ok), t)).expect("update");
    }
    let text = std::fs::read_to_string(dir.path().join(PROM_FILE)).expect("prom");
    assert!(text.contains("finsandbox_runs_total{status=\"ok\"} 3\n"), "{text}");
    std::fs::write(dir.path().join(STATE_FILE), "{not json").expect("write");
    let (text, warning) = update(dir.path(), |s| s.record_run(&Outcome::Result(&ok), 9)).expect("update");
    assert!(text.contains("finsandbox_runs_total{status=\"ok\"} 1\n"), "{text}");
    assert!(warning.is_some_and(|w| w.contains("counters restart")));
    assert!(dir.path().join(format!("{STATE_FILE}.bad")).exists());
    // Only the exported file, the state, its lock and the bad one: no temporaries left.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".finsandbox-metrics.json", ".finsandbox-metrics.json.bad", LOCK_FILE, PROM_FILE]);
}

#[test]
fn threads_updating_one_directory_lose_no_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = sample_of(Status::Ok);
    std::thread::scope(|sc| {
        for _ in 0..4 {
            sc.spawn(|| {
                for t in 0..25 {
                    update(dir.path(), |s| s.record_run(&Outcome::Result(&ok), t)).expect("update");
                }
            });
        }
    });
    let text = std::fs::read_to_string(dir.path().join(PROM_FILE)).expect("prom");
    assert!(text.contains("finsandbox_runs_total{status=\"ok\"} 100\n"), "{text}");
}

#[test]
fn check_dir_refuses_a_missing_directory() {
    let err = check_dir(Path::new("/nonexistent/metrics")).expect_err("refused");
    assert!(err.contains("not a directory"), "{err}");
}
