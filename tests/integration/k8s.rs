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
