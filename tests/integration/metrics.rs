//! Metrics, rules, dashboard and audit log, checked with the real tools:
//! Debian's `promtool` (package `prometheus`) and `prometheus-node-exporter`
//! started on 127.0.0.1 and scraped over HTTP. A missing tool fails the test:
//! `.ci/run` installs both.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{bin, market, root, strategy, TRIVIAL_TAIL};

const OK_SOURCE: &str =
    "def strategy(data):\n    close = data.get('close')\n    return close > close.rolling(5).mean()\n";
const REJECTED_SOURCE: &str = "import os\nimport subprocess\nx = ().__class__\n";

fn tool(name: &str) -> Command {
    let found = which(name)
        .unwrap_or_else(|| panic!("`{name}` is not installed: apt-get install prometheus prometheus-node-exporter"));
    Command::new(found)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

fn promtool_check_metrics(text: &str) {
    let mut c = tool("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    c.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
    let out = c.wait_with_output().expect("promtool");
    // promtool prints lint problems (and exits non-zero) for bad names, units, HELP.
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `finsandbox exec` with the given extra flags; (exit code, stdout JSON).
fn exec(path: &Path, extra: &[&std::ffi::OsStr]) -> (i32, Value, String) {
    let out = bin().arg("--json").arg("exec").arg(path).arg("--data").arg(market()).args(extra).output().expect("exec");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// The value of one exact series line (`name{labels}`) in an exposition text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// GET a path over plain HTTP/1.1; (status line, headers+body).
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.lines().next().unwrap_or_default().to_string();
    Ok((status, out))
}

/// Poll until `ready` says yes; the limit is a hang guard, not an assertion on speed.
fn wait_for<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = ready() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process killed (and reaped) when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_runs_count_in_the_textfile_that_node_exporter_serves_and_the_audit_log_holds_their_provenance() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("audit.jsonl");
    let s = strategy(OK_SOURCE);
    let mut results = Vec::new();
    for _ in 0..2 {
        let (code, v, err) =
            exec(&s.path, &[os("--metrics-textfile"), dir.path().as_os_str(), os("--audit-log"), audit.as_os_str()]);
        assert_eq!((code, v["status"].as_str()), (0, Some("ok")), "{err}");
        results.push(v);
    }
    let text = std::fs::read_to_string(dir.path().join("finsandbox.prom")).expect("the .prom was written");
    promtool_check_metrics(&text);

    // The real collector reads the directory; scrape it over HTTP.
    let port = free_port();
    let exporter = Guard(
        tool("prometheus-node-exporter")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(["--collector.disable-defaults", "--collector.textfile"])
            .arg(format!("--collector.textfile.directory={}", dir.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node exporter"),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let (status, body) = wait_for("node_exporter to answer", || http_get(addr, "/metrics").ok());
    assert!(status.contains("200"), "{status}");
    // The collector parsed our file: no scrape error, and our values.
    assert_eq!(sample(&body, "node_textfile_scrape_error"), Some(0.0), "{body}");
    assert_eq!(sample(&body, "finsandbox_runs_total{status=\"ok\"}"), Some(2.0), "{body}");
    assert_eq!(sample(&body, "finsandbox_runs_total{status=\"rejected\"}"), Some(0.0), "{body}");
    assert_eq!(sample(&body, "finsandbox_run_duration_seconds_count"), Some(2.0), "{body}");
    assert_eq!(sample(&body, "finsandbox_run_startup_seconds_count"), Some(2.0), "{body}");
    assert_eq!(sample(&body, "finsandbox_run_memory_peak_bytes_count"), Some(2.0), "{body}");
    let sum: f64 = results.iter().map(|r| r["execution_time_s"].as_f64().expect("time")).sum();
    let got = sample(&body, "finsandbox_run_duration_seconds_sum").expect("sum");
    assert!((got - sum).abs() < 1e-6, "duration sum {got} != {sum}");
    assert_eq!(sample(&body, "finsandbox_last_run_success"), Some(1.0), "{body}");
    drop(exporter);

    // One line per run, each with the run's own provenance hashes.
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 2);
    for (line, r) in lines.iter().zip(&results) {
        assert_eq!(line["run_id"], r["run_id"]);
        assert_eq!(line["status"], "ok");
        assert_eq!(line["provenance"], r["provenance"], "the audit line holds the result's provenance");
        for key in ["strategy_sha256", "data_sha256", "seccomp_sha256", "config_sha256"] {
            let h = line["provenance"][key].as_str().unwrap_or_default();
            assert_eq!(h.len(), 64, "{key}: {line}");
        }
        // SAFETY: getuid cannot fail.
        assert_eq!(line["user"]["uid"], unsafe { libc::getuid() });
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
        assert_eq!(line["host"], host.trim());
    }
}

#[test]
fn concurrent_processes_on_one_directory_lose_no_count_and_write_only_whole_audit_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let audit = dir.path().join("audit.jsonl");
    let s = strategy(REJECTED_SOURCE);
    // Rejected strategies start no container: many processes overlap in the update.
    const N: usize = 12;
    let children: Vec<Child> = (0..N)
        .map(|_| {
            bin()
                .args(["--quiet", "exec"])
                .arg(&s.path)
                .arg("--data")
                .arg(market())
                .arg("--metrics-textfile")
                .arg(dir.path())
                .arg("--audit-log")
                .arg(&audit)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(11), "{}", String::from_utf8_lossy(&out.stderr));
        // Cron-friendly: --quiet prints nothing on stdout, and no warning on stderr.
        assert!(out.stdout.is_empty(), "stdout under --quiet: {}", String::from_utf8_lossy(&out.stdout));
        assert!(out.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = std::fs::read_to_string(dir.path().join("finsandbox.prom")).expect("prom");
    promtool_check_metrics(&text);
    assert_eq!(sample(&text, "finsandbox_runs_total{status=\"rejected\"}"), Some(N as f64), "{text}");
    assert_eq!(sample(&text, "finsandbox_screening_rejections_total{rule=\"FS001\"}"), Some(N as f64), "{text}");
    assert_eq!(sample(&text, "finsandbox_screening_rejections_total{rule=\"FS003\"}"), Some(N as f64), "{text}");
    let log = std::fs::read_to_string(&audit).expect("audit");
    let want = finsandbox_sha256(REJECTED_SOURCE);
    assert_eq!(log.lines().count(), N, "{log}");
    for l in log.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("a torn line ({e}): {l}"));
        assert_eq!(v["status"], "rejected");
        assert_eq!(v["provenance"]["strategy_sha256"], want.as_str());
        let rules: BTreeSet<&str> =
            v["findings"].as_array().expect("findings").iter().filter_map(|f| f["rule"].as_str()).collect();
        assert_eq!(rules, BTreeSet::from(["FS001", "FS003"]), "{l}");
    }
}

fn finsandbox_sha256(s: &str) -> String {
    finsandbox::host::hex_sha256(s.as_bytes())
}

#[test]
fn where_metrics_and_audit_go_is_not_part_of_the_config_hash() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = strategy(REJECTED_SOURCE);
    let (_, plain, _) = exec(&s.path, &[]);
    let (_, observed, err) = exec(
        &s.path,
        &[os("--metrics-textfile"), dir.path().as_os_str(), os("--audit-log"), dir.path().join("a.jsonl").as_os_str()],
    );
    assert_eq!(observed["status"], "rejected", "{err}");
    assert_eq!(plain["provenance"]["config_sha256"], observed["provenance"]["config_sha256"]);
}

#[test]
fn config_keys_set_the_metrics_directory_and_the_audit_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let metrics = dir.path().join("m");
    std::fs::create_dir(&metrics).expect("mkdir");
    let cfg = dir.path().join("finsandbox.yaml");
    // Relative paths are the config file's project's.
    std::fs::write(
        &cfg,
        "cleanup:\n  sweep_on_start: false\nmetrics:\n  textfile_dir: m\naudit:\n  log: audit.jsonl\n",
    )
    .expect("cfg");
    let s = strategy(REJECTED_SOURCE);
    let out = bin()
        .env("FINSANDBOX_CONFIG", &cfg)
        .arg("exec")
        .arg(&s.path)
        .arg("--data")
        .arg(market())
        .output()
        .expect("exec");
    assert_eq!(out.status.code(), Some(11), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(metrics.join("finsandbox.prom")).expect("prom from the config key");
    assert_eq!(sample(&text, "finsandbox_runs_total{status=\"rejected\"}"), Some(1.0));
    assert_eq!(std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit").lines().count(), 1);
    let shown = bin().env("FINSANDBOX_CONFIG", &cfg).args(["--json", "config", "show"]).output().expect("show");
    let v: Value = serde_json::from_slice(&shown.stdout).expect("json");
    let entry = |k: &str| v["settings"].as_array().and_then(|a| a.iter().find(|e| e["key"] == k).cloned());
    assert_eq!(entry("metrics_textfile_dir").expect("listed")["value"], metrics.display().to_string());
    assert!(entry("audit_log").expect("listed")["origin"].as_str().unwrap_or_default().contains("config file"));
}

#[test]
fn a_missing_metrics_directory_or_unwritable_audit_log_refuses_before_running() {
    let s = strategy(OK_SOURCE);
    let (code, v, _) = exec(&s.path, &[os("--metrics-textfile"), os("/nonexistent/finsandbox-metrics")]);
    assert_eq!(code, 2, "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("not a directory"), "{v}");
    let (code, v, _) = exec(&s.path, &[os("--audit-log"), os("/nonexistent/dir/audit.jsonl")]);
    assert_eq!(code, 2, "{v}");
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("audit log"), "{v}");
}

#[test]
fn cleanup_sets_the_orphans_gauge_that_the_shipped_alert_reads() {
    let dir = tempfile::tempdir().expect("tmp");
    // --dry-run: other tests' deliberate orphans must stay for their own checks.
    let out =
        bin().args(["--json", "cleanup", "--dry-run", "--metrics-textfile"]).arg(dir.path()).output().expect("cleanup");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let orphans = v["containers"].as_array().expect("containers").iter().filter(|c| c["orphan"] == true).count();
    let text = std::fs::read_to_string(dir.path().join("finsandbox.prom")).expect("prom");
    promtool_check_metrics(&text);
    assert_eq!(sample(&text, "finsandbox_orphans"), Some(orphans as f64), "{text}");
    assert_eq!(sample(&text, "finsandbox_orphans_reaped_total"), Some(0.0), "a dry run reaps nothing: {text}");
    assert!(sample(&text, "finsandbox_cleanup_last_timestamp_seconds").is_some(), "{text}");
}

#[test]
fn the_rules_file_passes_promtool_and_its_unit_tests() {
    let p = root().join("deploy/prometheus");
    for args in [&["check", "rules", "finsandbox.rules.yml"][..], &["test", "rules", "finsandbox.rules.test.yml"][..]] {
        let out = tool("promtool").args(args).current_dir(&p).output().expect("promtool");
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every `finsandbox_*` name in an expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("finsandbox_") {
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

fn exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("expr", Value::String(s)) => out.push(s.clone()),
                    _ => exprs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| exprs(x, out)),
        _ => {}
    }
}

#[test]
fn the_dashboard_and_rules_query_only_metrics_the_code_emits() {
    let emitted: BTreeSet<String> = finsandbox::metrics::series_names().into_iter().collect();
    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("deploy/grafana/finsandbox.json")).expect("dashboard"),
    )
    .expect("dashboard JSON");
    let mut all = Vec::new();
    exprs(&dash, &mut all);
    assert!(all.len() >= 10, "the dashboard's queries were not found: {all:?}");
    let rules = std::fs::read_to_string(root().join("deploy/prometheus/finsandbox.rules.yml")).expect("rules");
    all.extend(rules.lines().filter_map(|l| l.trim().strip_prefix("expr:")).map(str::to_string));
    let mut used = BTreeSet::new();
    for e in &all {
        let names = metric_names(e);
        assert!(!names.is_empty(), "a query that names no finsandbox metric: {e}");
        for n in names {
            assert!(emitted.contains(&n), "`{n}` (in `{e}`) is not a metric finsandbox emits; it emits {emitted:?}");
            used.insert(n);
        }
    }
    // And the renderer really writes each name it declares: a full state rendered.
    let mut state = finsandbox::metrics::State::new();
    state.record_cleanup(1, 1, 1);
    state.record_run(&finsandbox::metrics::Outcome::Error, 1);
    let text = finsandbox::metrics::render(&state);
    for (name, _) in finsandbox::metrics::NAMES {
        assert!(text.contains(&format!("# TYPE {name} ")), "`{name}` is declared but not rendered");
    }
}

#[test]
fn batch_serves_metrics_live_on_loopback_and_refuses_other_addresses() {
    let dir = tempfile::tempdir().expect("tmp");
    let refused = bin()
        .args(["--json", "batch"])
        .arg(dir.path())
        .arg("--data")
        .arg(market())
        .args(["--metrics-listen", "0.0.0.0:9464"])
        .output()
        .expect("batch");
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a loopback address"));

    std::fs::write(dir.path().join("a_ok.py"), OK_SOURCE).expect("write");
    // Sleeps long enough to be scraped mid-batch; the batch is stopped first.
    std::fs::write(dir.path().join("b_slow.py"), format!("import time\ntime.sleep(120){TRIVIAL_TAIL}")).expect("write");
    let textfile = dir.path().join("m");
    std::fs::create_dir(&textfile).expect("mkdir");
    let audit = dir.path().join("audit.jsonl");
    let port = free_port();
    let batch = Guard(
        bin()
            .args(["--quiet", "batch"])
            .arg(dir.path())
            .arg("--data")
            .arg(market())
            .args(["--jobs", "1", "--timeout", "200", "--metrics-listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--out")
            .arg(dir.path().join("out.jsonl"))
            .arg("--metrics-textfile")
            .arg(&textfile)
            .arg("--audit-log")
            .arg(&audit)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("batch"),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    // Live: the first strategy's run shows while the second still runs.
    let (status, body) = wait_for("the first run in /metrics", || {
        http_get(addr, "/metrics").ok().filter(|(_, b)| sample(b, "finsandbox_runs_total{status=\"ok\"}") == Some(1.0))
    });
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(body.contains("Content-Type: text/plain; version=0.0.4"), "{body}");
    let (_, exposition) = body.split_once("\r\n\r\n").expect("a body");
    promtool_check_metrics(exposition);
    let (status, _) = http_get(addr, "/").expect("get /");
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");
    // SIGTERM: the batch removes its container and exits 143.
    let mut batch = batch;
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(batch.0.id() as i32, libc::SIGTERM) };
    let code = batch.0.wait().expect("wait").code();
    assert_eq!(code, Some(143));
    // The batch also merged each line into the textfile and the audit log.
    let text = std::fs::read_to_string(textfile.join("finsandbox.prom")).expect("prom");
    assert_eq!(sample(&text, "finsandbox_runs_total{status=\"ok\"}"), Some(1.0), "{text}");
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(&audit).expect("audit").lines().next().expect("a line for the finished run"),
    )
    .expect("json");
    assert_eq!(first["status"], "ok");
    assert!(first["strategy"].as_str().unwrap_or_default().ends_with("a_ok.py"), "{first}");
}
