//! `finsandbox k8s render` through the real binary: formats, refusals and
//! their exit codes. No cluster is involved (none exists here); the schema
//! check is `scripts/k8s_validate.sh` (kubernetes-validate --strict).

use std::process::Output;

use serde_json::Value;

use crate::support::{bin, root, strategy, TRIVIAL_TAIL};

/// Every gap a default render has.
const ALL_GAPS: &str = "network_none,pids_limit,tmpfs_noexec,memory_swap,log_size,service_env,data_tables_only,runtime_monitor,per_index_backoff_beta";

fn render(args: &[&str], gaps: Option<&str>) -> Output {
    let mut c = bin();
    c.args(["k8s", "render"]).args(args);
    if let Some(g) = gaps {
        c.env("FINSANDBOX_K8S_ACCEPT_GAPS", g);
    }
    c.output().expect("run finsandbox")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn describe(o: &Output) -> String {
    format!("exit {:?}\nstdout: {}\nstderr: {}", o.status.code(), text(&o.stdout), text(&o.stderr))
}

fn momentum() -> String {
    root().join("examples/momentum.py").display().to_string()
}

#[test]
fn k8s_render_prints_yaml_with_the_gaps_in_the_header() {
    let o = render(&[&momentum(), "--data-pvc", "market-data"], Some(ALL_GAPS));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let out = text(&o.stdout);
    assert!(out.starts_with("# Rendered by finsandbox"), "{out}");
    for kind in ["kind: ConfigMap", "kind: NetworkPolicy", "kind: Pod", "finsandbox.dev/hardening-gaps"] {
        assert!(out.contains(kind), "{kind} missing");
    }
    assert!(out.lines().take_while(|l| l.starts_with('#')).any(|l| l.contains("pids_limit")));
}

#[test]
fn k8s_render_o_json_is_a_list_and_dash_dash_json_the_document() {
    let o = render(&[&momentum(), "--data-pvc", "market-data", "-o", "json"], Some(ALL_GAPS));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let list: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(list["kind"], "List");
    assert!(list["items"].as_array().is_some_and(|i| i.iter().any(|x| x["kind"] == "Pod")));

    let o = render(&[&momentum(), "--data-pvc", "market-data", "--json"], Some(ALL_GAPS));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(doc["hardening"]["gaps"].as_array().map(Vec::len), Some(8));
    assert_eq!(doc["kubernetes_version"], "1.37");
}

#[test]
fn k8s_render_batch_is_an_indexed_job() {
    let o = render(
        &["--batch", "--manifest", "examples/", "--data-pvc", "market-data", "-o", "json", "--k8s-version", "1.31"],
        Some(ALL_GAPS),
    );
    // examples/ holds make_market.py, which writes files: screening refuses it.
    assert_eq!(o.status.code(), Some(11), "{}", describe(&o));
    assert!(text(&o.stderr).contains("make_market.py"), "{}", describe(&o));

    let d = tempfile::tempdir().expect("tempdir");
    for name in ["momentum.py", "finlab_style.py"] {
        std::fs::copy(root().join("examples").join(name), d.path().join(name)).expect("copy");
    }
    let dir = d.path().display().to_string();
    let o = render(
        &["--batch", "--manifest", &dir, "--data-pvc", "market-data", "-o", "json", "--k8s-version", "1.31"],
        Some(ALL_GAPS),
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let list: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let job = list["items"].as_array().and_then(|i| i.iter().find(|x| x["kind"] == "Job")).expect("a Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 2);
    assert!(job["metadata"]["annotations"]["finsandbox.dev/hardening-gaps"]
        .as_str()
        .is_some_and(|g| g.contains("per_index_backoff_beta")));
}

#[test]
fn k8s_render_refuses_without_accepted_gaps_naming_them_and_the_key() {
    let o = render(&[&momentum(), "--data-pvc", "market-data"], None);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let err = text(&o.stderr);
    assert!(err.contains("k8s.accept_gaps") && err.contains("tmpfs_noexec") && err.contains("service_env"), "{err}");
    assert!(o.stdout.is_empty(), "nothing rendered: {}", text(&o.stdout));

    let o = render(&[&momentum(), "--data-pvc", "market-data"], Some("network_none,pids_limit"));
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let first = text(&o.stderr).lines().next().unwrap_or_default().to_string();
    assert!(first.contains("memory_swap") && !first.contains("pids_limit"), "{first}");
}

#[test]
fn k8s_accept_gaps_from_the_config_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let cfg = d.path().join("c.yaml");
    std::fs::write(&cfg, "k8s:\n  accept_gaps: [network_none, pids_limit, tmpfs_noexec, memory_swap, log_size, service_env, data_tables_only, runtime_monitor]\n")
        .expect("write");
    let o = render(&[&momentum(), "--data-pvc", "market-data", "--config", &cfg.display().to_string()], None);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    std::fs::write(&cfg, "k8s:\n  accept_gaps: [pid_limit]\n").expect("write");
    let o = render(&[&momentum(), "--data-pvc", "market-data", "--config", &cfg.display().to_string()], None);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(text(&o.stderr).contains("pid_limit"), "{}", describe(&o));
}

#[test]
fn k8s_render_missing_strategy_is_an_input_error() {
    let o = render(&["/nonexistent/strategy.py", "--data-pvc", "market-data"], Some(ALL_GAPS));
    assert_eq!(o.status.code(), Some(4), "{}", describe(&o));
}

#[test]
fn k8s_render_never_renders_a_rejected_strategy() {
    let s = strategy(&format!("import os\nos.system('id')\n{TRIVIAL_TAIL}"));
    let o = render(&[&s.path.display().to_string(), "--data-pvc", "market-data"], Some(ALL_GAPS));
    assert_eq!(o.status.code(), Some(11), "{}", describe(&o));
    assert!(o.stdout.is_empty(), "nothing rendered: {}", text(&o.stdout));
    assert!(text(&o.stderr).contains("FS001"), "{}", describe(&o));
}

#[test]
fn k8s_render_unknown_version_is_a_usage_error() {
    for v in ["1.20", "2.0", "banana"] {
        let o = render(&[&momentum(), "--data-pvc", "market-data", "--k8s-version", v], Some(ALL_GAPS));
        assert_eq!(o.status.code(), Some(2), "{v}: {}", describe(&o));
        assert!(text(&o.stderr).contains("--k8s-version"), "{}", describe(&o));
    }
}

#[test]
fn k8s_render_bad_names_and_flag_combinations_are_usage_errors() {
    for args in [
        &[momentum().as_str(), "--data-pvc", "Market_Data"][..],
        &[momentum().as_str()][..],
        &["--batch", "--data-pvc", "d"][..],
        &[momentum().as_str(), "--batch", "--manifest", "examples", "--data-pvc", "d"][..],
        &[momentum().as_str(), "--data-pvc", "d", "--data-subpath", "../etc"][..],
    ] {
        let o = render(args, Some(ALL_GAPS));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", describe(&o));
    }
}

// ---- the rendered init container on the real engine ------------------------
//
// No cluster here, but the strategy container's image, command, environment
// and mounts are ours: run them with Docker under the same hardening the Pod
// asks for (uid 1000, read-only root, no capabilities, no-new-privileges, the
// shipped seccomp profile, no network, a writable /tmp that is not noexec,
// as an emptyDir is not), with the ConfigMap's files as the Pod would see them.

/// What the launcher left in `/work`.
struct Launched {
    exit_code: String,
    summary: Value,
    position: Option<Vec<u8>>,
}

/// The rendered ConfigMap's files and the `/work` the init container wrote.
struct Ran {
    cfg: tempfile::TempDir,
    work: tempfile::TempDir,
    /// The scorer container's command.
    score: Vec<String>,
}

fn run_rendered(source: &str) -> Ran {
    let s = strategy(source);
    let o = render(&[&s.path.display().to_string(), "--data-pvc", "market-data", "-o", "json"], Some(ALL_GAPS));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let list: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let items = list["items"].as_array().expect("items");
    let cm = items.iter().find(|i| i["kind"] == "ConfigMap").expect("ConfigMap");
    let pod = items.iter().find(|i| i["kind"] == "Pod").expect("Pod");
    let c = &pod["spec"]["initContainers"][0];

    let cfg = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(cfg.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    for (k, v) in cm["data"].as_object().expect("data") {
        std::fs::write(cfg.path().join(k), v.as_str().expect("text")).expect("write");
    }
    let mut d = crate::support::docker();
    d.args(["run", "--rm", "--read-only", "--user", "1000:1000", "--network", "none", "--cap-drop", "ALL"]);
    d.args(["--security-opt", "no-new-privileges"]);
    d.arg("--security-opt").arg(format!("seccomp={}", root().join("seccomp/finsandbox.json").display()));
    d.args(["--tmpfs", "/tmp:rw,size=1g", "--memory", "2g", "--cpus", "1"]);
    for e in c["env"].as_array().expect("env") {
        d.arg("--env").arg(format!("{}={}", e["name"].as_str().expect("name"), e["value"].as_str().expect("value")));
    }
    d.arg("--volume").arg(format!("{}:/finsandbox:ro", cfg.path().display()));
    d.arg("--volume").arg(format!("{}:/work", work.path().display()));
    d.arg("--volume").arg(format!("{}:/data/market:ro", crate::support::market().display()));
    d.arg(c["image"].as_str().expect("image"));
    d.args(c["command"].as_array().expect("command").iter().map(|a| a.as_str().expect("arg")));
    let out = d.output().expect("docker run");
    assert!(out.status.success(), "the launcher exits 0 whatever the strategy did: {}", describe(&out));
    let score = pod["spec"]["containers"][0]["command"].as_array().expect("command");
    let score = score.iter().map(|a| a.as_str().expect("arg").to_string()).collect();
    Ran { cfg, work, score }
}

fn launch_rendered(source: &str) -> Launched {
    let ran = run_rendered(source);
    let work = ran.work.path();
    let frames = std::fs::read(work.join("frames")).expect("frames written");
    let mut dec = finsandbox::harness::Decoder::new(1 << 20, 256 << 20);
    dec.feed(&frames);
    dec.finish();
    assert!(dec.corrupt.is_none(), "{:?}", dec.corrupt);
    let summary = serde_json::from_slice(dec.summary.as_deref().expect("a summary frame")).expect("summary JSON");
    let exit_code = std::fs::read_to_string(work.join("exit-code")).expect("exit code written");
    Launched { exit_code: exit_code.trim().to_string(), summary, position: dec.position }
}

/// The scorer container's own command on the host over what the init
/// container left (its mounts mapped to the temp directories); the
/// termination message too.
fn score_rendered(source: &str) -> (Output, Value, String) {
    let ran = run_rendered(source);
    let log = ran.work.path().join("termination-log");
    std::fs::write(&log, "").expect("create");
    assert_eq!(ran.score.first().map(String::as_str), Some("finsandbox"), "{:?}", ran.score);
    let mounts = [("/work", ran.work.path()), ("/finsandbox", ran.cfg.path())];
    let args = ran.score[1..].iter().map(|a| match mounts.iter().find(|(m, _)| a == m) {
        Some((_, host)) => host.as_os_str().to_owned(),
        None if a == "/data/market" => crate::support::market().into_os_string(),
        None => a.into(),
    });
    let o = bin()
        .args(args)
        .arg("--termination-log")
        .arg(&log)
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .expect("run finsandbox");
    let r: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
    (o, r, std::fs::read_to_string(&log).expect("termination log"))
}

#[test]
fn k8s_score_of_the_rendered_pod_equals_a_local_exec() {
    let source = std::fs::read_to_string(root().join("examples/momentum.py")).expect("example");
    let (o, r, log) = score_rendered(&source);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(r["status"], "ok", "{r}");
    let local = bin()
        .args(["exec", "examples/momentum.py", "--data", "examples/market.parquet", "--json"])
        .output()
        .expect("run finsandbox");
    assert_eq!(local.status.code(), Some(0), "{}", describe(&local));
    let local: Value = serde_json::from_slice(&local.stdout).expect("JSON");
    assert!(r["metrics"].is_object(), "{r}");
    for key in ["metrics", "backtest", "position"] {
        assert_eq!(r[key], local[key], "{key} differs from a local exec");
    }
    for key in ["strategy_sha256", "data_sha256", "config_sha256"] {
        assert_eq!(r["provenance"][key], local["provenance"][key], "provenance.{key}");
    }
    let t: Value = serde_json::from_str(&log).expect("termination message is JSON");
    assert_eq!(t["status"], "ok");
    assert!(log.len() <= 4096, "{}", log.len());
}

#[test]
fn k8s_score_of_a_raising_strategy_is_a_strategy_error_with_its_message() {
    let (o, r, log) = score_rendered("def strategy(data):\n    raise ValueError('boom')\n");
    assert_eq!(r["status"], "strategy_error", "{r}");
    assert_eq!(o.status.code(), Some(finsandbox::error::code::STRATEGY_ERROR), "{}", describe(&o));
    assert!(r["error"]["message"].as_str().is_some_and(|m| m.contains("boom")), "{r}");
    assert!(r["metrics"].is_null(), "{r}");
    assert!(log.contains("strategy_error"), "{log}");
}

#[test]
fn k8s_rendered_init_container_runs_the_strategy_in_the_sandbox_image() {
    let l = launch_rendered(&std::fs::read_to_string(root().join("examples/momentum.py")).expect("example"));
    assert_eq!(l.summary["status"], "ok", "{}", l.summary);
    assert_eq!(l.exit_code, "0");
    assert!(l.position.is_some_and(|p| !p.is_empty()), "a position frame");
}

#[test]
fn k8s_rendered_init_container_reports_a_failing_strategy_and_still_exits_0() {
    let l = launch_rendered("def strategy(data):\n    raise ValueError('boom')\n");
    assert_eq!(l.summary["status"], "strategy_error", "{}", l.summary);
    assert!(l.summary["error"]["message"].as_str().is_some_and(|m| m.contains("boom")), "{}", l.summary);
    assert_ne!(l.exit_code, "0");
}

#[test]
fn k8s_render_renders_what_exec_would_run_and_warns_of_dropped_magics() {
    let s = strategy(&format!("!pip install finlab\n{TRIVIAL_TAIL}"));
    let o = render(&[&s.path.display().to_string(), "--data-pvc", "market-data", "-o", "json"], Some(ALL_GAPS));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(text(&o.stderr).contains("warning") && text(&o.stderr).contains("pip"), "{}", describe(&o));
    let list: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let cm = list["items"].as_array().and_then(|i| i.iter().find(|x| x["kind"] == "ConfigMap")).expect("ConfigMap");
    let line: Value = serde_json::from_str(cm["data"]["strategy.json"].as_str().expect("line")).expect("JSON");
    assert!(!line["source"].as_str().expect("source").contains("!pip"), "the magic is not rendered: {line}");
}

#[test]
fn k8s_score_without_settings_or_with_a_bad_completion_index_is_a_config_error() {
    let d = tempfile::tempdir().expect("tempdir");
    let dir = d.path().display().to_string();
    let market = crate::support::market().display().to_string();
    let args = ["k8s", "score", "--work", &dir, "--config-dir", &dir, "--data", &market];
    let o = bin().args(args).env_remove("JOB_COMPLETION_INDEX").output().expect("run finsandbox");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(text(&o.stderr).contains("settings.json"), "{}", describe(&o));
    let o = bin().args(args).env("JOB_COMPLETION_INDEX", "x").output().expect("run finsandbox");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(text(&o.stderr).contains("JOB_COMPLETION_INDEX"), "{}", describe(&o));
}
