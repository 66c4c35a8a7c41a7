//! The renderer's tests: one per hardening field through an invariant
//! checker that walks every container of every pod template (so a container
//! added later is checked without a new test), the gaps' refusal rules,
//! snapshots of the single and batch YAML, and the YAML reading back as the
//! objects it came from.

use serde_json::Value;

use super::gaps::{self, Gap};
use super::invariants::*;
use super::output;
use super::render::{self, Options};
use super::version::Version;
use super::{Input, Rendered, Strategy};
use crate::config::Settings;
use crate::error::{ConfigError, Error};

const SOURCE: &str = "def strategy(data):\n    return data.get('close') > 0\n";

fn settings() -> Settings {
    Settings::default()
}

fn options() -> Options {
    Options {
        data_pvc: "market-data".into(),
        data_subpath: None,
        runtime_class: None,
        runtime_handler: "runsc".into(),
        version: Version { minor: 33 },
        namespace: Some("research".into()),
        seccomp_localhost_profile: "profiles/finsandbox.json".into(),
        scorer_image: "finsandbox:test".into(),
        parallelism: None,
    }
}

fn strategy(name: &str) -> Strategy {
    Strategy { filename: name.into(), source: SOURCE.replace("0", &name.len().to_string()) }
}

fn all_ids() -> Vec<String> {
    gaps::ALL.iter().map(|g| g.id.to_string()).collect()
}

fn single_with(o: &Options) -> Rendered {
    super::render(&settings(), o, Input::Single(&strategy("momentum.py")), &all_ids(), "test").expect("renders")
}

fn batch_with(o: &Options) -> Rendered {
    let all = [strategy("a.py"), strategy("bb.py"), strategy("ccc.py")];
    super::render(&settings(), o, Input::Batch(&all), &all_ids(), "test").expect("renders")
}

fn v(x: impl Into<Value>) -> Value {
    x.into()
}

fn values(r: &Rendered) -> Vec<Value> {
    r.objects.iter().map(|o| serde_json::to_value(o).expect("serialises")).collect()
}

// ---- invariants ------------------------------------------------------------

#[test]
fn every_container_of_the_single_pod_is_hardened() {
    assert_eq!(violations(&values(&single_with(&options()))), Vec::<String>::new());
}

#[test]
fn every_container_of_the_batch_template_is_hardened() {
    assert_eq!(violations(&values(&batch_with(&options()))), Vec::<String>::new());
}

#[test]
fn hardened_with_a_runtime_class_and_a_data_subpath_too() {
    let o = Options { runtime_class: Some("gvisor".into()), data_subpath: Some("tw".into()), ..options() };
    assert_eq!(violations(&values(&single_with(&o))), Vec::<String>::new());
    assert_eq!(violations(&values(&batch_with(&o))), Vec::<String>::new());
}

/// The checker is what the invariant tests stand on: a container added
/// without the fields, or one field removed, must be caught.
#[test]
fn the_checker_catches_a_new_container_without_hardening() {
    let mut objs = values(&single_with(&options()));
    let pod = objs.iter_mut().find(|o| o["kind"] == "Pod").expect("a pod");
    pod["spec"]["containers"].as_array_mut().expect("containers").push(serde_json::json!({
        "name": "sidecar", "image": "busybox",
        "resources": {"limits": {"cpu": "1"}}, "volumeMounts": [{"name": "data", "mountPath": "/d"}]
    }));
    let bad = violations(&objs);
    for want in [
        "sidecar: securityContext.readOnlyRootFilesystem",
        "sidecar: capabilities.drop",
        "sidecar: no memory limit",
        "sidecar: \"data\" mounted writable",
        "sidecar: /tmp is not",
    ] {
        assert!(bad.iter().any(|b| b.starts_with(want)), "missing {want:?} in {bad:#?}");
    }
}

#[test]
fn the_checker_catches_each_field_removed_from_the_job_template() {
    let base = values(&batch_with(&options()));
    let job = base.iter().position(|o| o["kind"] == "Job").expect("a job");
    let cases: &[(&str, &str)] = &[
        ("/spec/template/spec/automountServiceAccountToken", "automountServiceAccountToken"),
        ("/spec/template/spec/enableServiceLinks", "enableServiceLinks"),
        ("/spec/template/spec/dnsPolicy", "dnsPolicy"),
        (
            "/spec/template/spec/initContainers/0/securityContext/allowPrivilegeEscalation",
            "strategy: securityContext.allowPrivilegeEscalation",
        ),
        ("/spec/template/spec/initContainers/0/securityContext/seccompProfile/type", "strategy: seccompProfile.type"),
        ("/spec/template/spec/containers/0/securityContext/runAsNonRoot", "score: securityContext.runAsNonRoot"),
        ("/spec/template/spec/containers/0/resources/requests/memory", "score: requests"),
        ("/spec/template/spec/volumes/2/emptyDir/sizeLimit", "emptyDir \"tmp\" has no sizeLimit"),
        ("/spec/template/spec/volumes/4/persistentVolumeClaim/readOnly", "claim \"data\" readOnly"),
        ("/spec/template/metadata/labels/finsandbox.dev~1run", "no deny-all NetworkPolicy"),
    ];
    for (pointer, want) in cases {
        let mut objs = base.clone();
        let (parent, leaf) = pointer.rsplit_once('/').expect("pointer");
        let leaf = leaf.replace("~1", "/");
        objs[job].pointer_mut(parent).and_then(Value::as_object_mut).expect(parent).remove(&leaf).expect(pointer);
        let bad = violations(&objs);
        assert!(bad.iter().any(|b| b.starts_with(want)), "removing {pointer}: missing {want:?} in {bad:#?}");
    }
}

// ---- single fields, named after what they keep -----------------------------

fn pod(r: &Rendered) -> Value {
    values(r).into_iter().find(|o| o["kind"] == "Pod").expect("a pod")
}

fn job(r: &Rendered) -> Value {
    values(r).into_iter().find(|o| o["kind"] == "Job").expect("a job")
}

#[test]
fn the_strategy_is_the_init_container_and_the_scorer_is_trusted_after_it() {
    let p = pod(&single_with(&options()));
    assert_eq!(p["spec"]["initContainers"][0]["name"], "strategy");
    assert_eq!(p["spec"]["initContainers"][0]["image"], "finsandbox-runtime:1");
    assert_eq!(p["spec"]["containers"][0]["name"], "score");
    assert_eq!(p["spec"]["containers"][0]["image"], "finsandbox:test");
    let work = |c: &Value| {
        c["volumeMounts"].as_array().expect("mounts").iter().find(|m| m["name"] == "work").cloned().expect("work")
    };
    assert_eq!(work(&p["spec"]["initContainers"][0])["readOnly"], false, "the strategy writes its frames");
    assert_eq!(work(&p["spec"]["containers"][0])["readOnly"], true, "the scorer only reads them");
}

#[test]
fn limits_come_from_the_settings() {
    let s = Settings { memory_bytes: 512 << 20, memory_swap_bytes: 512 << 20, cpus: 1.5, ..settings() };
    let st = strategy("m.py");
    let r = super::render(&s, &options(), Input::Single(&st), &all_ids(), "test").expect("renders");
    let c = &pod(&r)["spec"]["initContainers"][0];
    assert_eq!(c["resources"]["limits"]["memory"], "536870912");
    assert_eq!(c["resources"]["limits"]["cpu"], "1500m");
    assert_eq!(render::cpu_quantity(0.5), "500m");
    assert_eq!(render::cpu_quantity(2.0), "2");
}

#[test]
fn the_backstop_deadline_and_ulimits_reach_the_launcher() {
    let p = pod(&single_with(&options()));
    let cmd: Vec<&str> =
        p["spec"]["initContainers"][0]["command"].as_array().expect("cmd").iter().filter_map(Value::as_str).collect();
    // 600 s of strategy + 120 s start-up; fsize = tmpfs; nofile; nproc.
    assert_eq!(cmd, ["python3", "-I", "-B", "/finsandbox/launch.py", "720", "1073741824", "1024", "2048"]);
    // + 30 s grace + 120 s for the scorer.
    assert_eq!(p["spec"]["activeDeadlineSeconds"], 870);
}

#[test]
fn tmp_is_memory_backed_at_the_configured_size() {
    let p = pod(&single_with(&options()));
    let tmp = p["spec"]["volumes"].as_array().expect("volumes").iter().find(|v| v["name"] == "tmp").cloned();
    assert_eq!(tmp.expect("tmp")["emptyDir"], serde_json::json!({"medium": "Memory", "sizeLimit": "1073741824"}));
}

#[test]
fn the_data_claim_is_mounted_read_only_where_the_harness_looks() {
    let o = Options { data_subpath: Some("tw/market.parquet".into()), ..options() };
    let p = pod(&single_with(&o));
    for c in containers(&p["spec"]) {
        let m = c["volumeMounts"].as_array().expect("mounts").iter().find(|m| m["name"] == "data").cloned();
        let m = m.expect("data mount");
        assert_eq!(
            (&m["mountPath"], &m["readOnly"], &m["subPath"]),
            (&v("/data/market"), &v(true), &v("tw/market.parquet"))
        );
    }
}

#[test]
fn no_runtime_class_unless_asked_and_then_the_object_too() {
    let r = single_with(&options());
    assert!(pod(&r)["spec"].get("runtimeClassName").is_none());
    assert!(!values(&r).iter().any(|o| o["kind"] == "RuntimeClass"));
    let r = single_with(&Options { runtime_class: Some("gvisor".into()), ..options() });
    assert_eq!(pod(&r)["spec"]["runtimeClassName"], "gvisor");
    let rc = values(&r).into_iter().find(|o| o["kind"] == "RuntimeClass").expect("runtime class");
    assert_eq!((&rc["metadata"]["name"], &rc["handler"]), (&v("gvisor"), &v("runsc")));
    assert!(rc["metadata"].get("namespace").is_none(), "RuntimeClass is cluster-scoped");
}

#[test]
fn the_configmap_holds_the_harness_the_launcher_and_the_requests() {
    let r = single_with(&options());
    let cm = values(&r).into_iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    assert_eq!(cm["data"]["harness.py"], crate::harness::SOURCE);
    assert_eq!(cm["data"]["launch.py"], super::LAUNCHER);
    assert_eq!(cm["immutable"], true);
    let setup: Value = serde_json::from_str(cm["data"]["setup.json"].as_str().expect("setup")).expect("json");
    assert_eq!(setup["runtime_policy"], true, "the in-process lockdown stays on");
    assert_eq!(setup["data_path"], "/data/market");
    assert!(setup.get("source").is_none(), "the strategy is the second line, sent after READY");
    let line: Value = serde_json::from_str(cm["data"]["strategy.json"].as_str().expect("line")).expect("json");
    assert_eq!(line["filename"], "momentum.py");
    assert_eq!(pod(&r)["spec"]["volumes"][0]["configMap"]["name"], cm["metadata"]["name"]);
}

#[test]
fn the_configmap_holds_the_settings_the_scorer_uses_and_each_strategys_sha256() {
    let r = single_with(&options());
    let cm = values(&r).into_iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    let rs: super::score::ScoreSettings =
        serde_json::from_str(cm["data"]["settings.json"].as_str().expect("settings")).expect("settings.json");
    assert_eq!(rs, super::score::ScoreSettings::of(&settings(), &[strategy("momentum.py")]));
    assert_eq!(rs.config_sha256, crate::run::result::config_sha256(&settings()));
    let line: Value = serde_json::from_str(cm["data"]["strategy.json"].as_str().expect("line")).expect("json");
    let source = line["source"].as_str().expect("source");
    assert_eq!(rs.strategy_sha256, vec![crate::host::hex_sha256(source.as_bytes())]);

    let b = batch_with(&options());
    let cm = values(&b).into_iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    let rs: super::score::ScoreSettings =
        serde_json::from_str(cm["data"]["settings.json"].as_str().expect("settings")).expect("settings.json");
    assert_eq!(rs.strategy_sha256.len(), 3);
    for (i, sha) in rs.strategy_sha256.iter().enumerate() {
        let line: Value =
            serde_json::from_str(cm["data"][format!("strategy-{i}.json")].as_str().expect("line")).expect("json");
        assert_eq!(sha, &crate::host::hex_sha256(line["source"].as_str().expect("source").as_bytes()), "index {i}");
    }
}

#[test]
fn a_batch_is_an_indexed_job_that_one_bad_strategy_cannot_fail() {
    let r = batch_with(&Options { parallelism: Some(2), ..options() });
    let j = job(&r);
    let spec = &j["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!((&spec["completions"], &spec["parallelism"]), (&v(3), &v(2)));
    assert_eq!(spec["backoffLimitPerIndex"], 0);
    assert_eq!(spec["maxFailedIndexes"], 3);
    let cm = values(&r).into_iter().find(|o| o["kind"] == "ConfigMap").expect("configmap");
    let keys: Vec<&String> = cm["data"].as_object().expect("data").keys().collect();
    for k in ["strategy-0.json", "strategy-1.json", "strategy-2.json"] {
        assert!(keys.iter().any(|x| *x == k), "{k} in {keys:?}");
    }
    assert_eq!(
        j["spec"]["template"]["metadata"]["annotations"][gaps::ANNOTATION],
        j["metadata"]["annotations"][gaps::ANNOTATION]
    );
}

#[test]
fn parallelism_defaults_to_all_and_never_exceeds_completions() {
    assert_eq!(job(&batch_with(&options()))["spec"]["parallelism"], 3);
    assert_eq!(job(&batch_with(&Options { parallelism: Some(50), ..options() }))["spec"]["parallelism"], 3);
}

#[test]
fn names_are_dns_labels_and_stable() {
    let a = single_with(&options());
    assert_eq!(a.name, single_with(&options()).name);
    assert!(a.name.len() <= 63 && a.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    assert_ne!(a.name, batch_with(&options()).name);
}

#[test]
fn a_configmap_over_the_limit_is_refused_not_truncated() {
    let big: Vec<Strategy> =
        (0..20).map(|i| Strategy { filename: format!("s{i}.py"), source: "#".repeat(60_000) }).collect();
    let e = super::render(&settings(), &options(), Input::Batch(&big), &all_ids(), "test").expect_err("too big");
    assert!(e.to_string().contains("ConfigMap"), "{e}");
    assert_eq!(e.exit_code(), crate::error::code::INPUT);
}

// ---- gaps ------------------------------------------------------------------

fn refusal(accepted: &[&str], o: &Options) -> Option<Error> {
    let accepted: Vec<String> = accepted.iter().map(|s| s.to_string()).collect();
    super::render(&settings(), o, Input::Single(&strategy("m.py")), &accepted, "test").err()
}

#[test]
fn without_accepted_gaps_rendering_refuses_naming_each_and_the_key() {
    let e = refusal(&[], &options()).expect("refused");
    let msg = e.to_string();
    for g in gaps::ALWAYS.iter().map(|g| g.id) {
        assert!(msg.contains(g), "{g} not named: {msg}");
    }
    assert!(msg.contains("k8s.accept_gaps"), "{msg}");
    assert_eq!(e.exit_code(), crate::error::code::USAGE);
    assert!(e.hint().is_some_and(|h| h.contains("accept_gaps")));
}

#[test]
fn partial_acceptance_refuses_naming_only_the_rest() {
    let e = refusal(&["network_none", "pids_limit", "log_size"], &options()).expect("refused");
    match e {
        Error::Config(ConfigError::UnacceptedGaps { gaps, .. }) => {
            assert_eq!(gaps, ["tmpfs_noexec", "memory_swap", "service_env", "data_tables_only", "runtime_monitor"])
        }
        other => panic!("{other}"),
    }
}

#[test]
fn all_accepted_renders_and_lists_the_gaps_everywhere() {
    let r = single_with(&options());
    let ids: Vec<&str> = r.gaps.iter().map(|g| g.id).collect();
    let always: Vec<&str> = gaps::ALWAYS.iter().map(|g| g.id).collect();
    assert_eq!(ids, always);
    let annotation = pod(&r)["metadata"]["annotations"][gaps::ANNOTATION].clone();
    assert_eq!(annotation, always.join(","));
    let yaml = output::yaml(&r).expect("yaml");
    for id in ids {
        assert!(yaml.lines().take_while(|l| l.starts_with('#')).any(|l| l.contains(id)), "{id} not in the header");
    }
    let doc = serde_json::to_value(output::document(&r)).expect("json");
    assert_eq!(doc["hardening"]["gaps"][0]["id"], "network_none");
    assert!(doc["hardening"]["gaps"][0]["covered_by"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn an_unknown_gap_id_is_refused_not_ignored() {
    let e = gaps::check(&[], &["pid_limit".into()], "config file `x`").expect_err("unknown");
    assert!(e.to_string().contains("pid_limit") && e.to_string().contains("k8s.accept_gaps"), "{e}");
}

#[test]
fn a_configured_runtime_without_a_runtime_class_is_a_gap() {
    let s = Settings { runtime: Some("runsc".into()), ..settings() };
    let st = strategy("m.py");
    let mut accepted: Vec<String> = all_ids().into_iter().filter(|g| g != "runtime_class").collect();
    let e = super::render(&s, &options(), Input::Single(&st), &accepted, "t").expect_err("refused");
    assert!(e.to_string().contains("runtime_class"), "{e}");
    let o = Options { runtime_class: Some("gvisor".into()), ..options() };
    assert!(super::render(&s, &o, Input::Single(&st), &accepted, "t").is_ok(), "a runtime class closes it");
    accepted.push("runtime_class".into());
    assert!(super::render(&s, &options(), Input::Single(&st), &accepted, "t").is_ok());
}

#[test]
fn a_batch_for_a_version_with_beta_per_index_backoff_declares_it() {
    let gap_ids = |r: &Rendered| r.gaps.iter().map(|g| g.id).collect::<Vec<_>>();
    let old = batch_with(&Options { version: Version { minor: 32 }, ..options() });
    assert!(gap_ids(&old).contains(&gaps::PER_INDEX_BETA.id));
    assert!(!gap_ids(&batch_with(&options())).contains(&gaps::PER_INDEX_BETA.id), "GA in 1.33");
    let single_old = single_with(&Options { version: Version { minor: 29 }, ..options() });
    assert!(!gap_ids(&single_old).contains(&gaps::PER_INDEX_BETA.id), "a Pod has no backoff");
}

#[test]
fn every_gap_says_what_is_lost_and_what_covers_it() {
    for Gap { id, docker, kubernetes, covered_by } in gaps::ALL {
        assert!(!docker.is_empty() && !kubernetes.is_empty() && !covered_by.is_empty(), "{id}");
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{id}");
    }
}

// ---- output ----------------------------------------------------------------

#[test]
fn the_yaml_reads_back_as_the_objects() {
    for r in [single_with(&options()), batch_with(&Options { runtime_class: Some("gvisor".into()), ..options() })] {
        let yaml = output::yaml(&r).expect("yaml");
        let back: Vec<Value> = serde_saphyr::from_multiple(&yaml).expect("parses");
        assert_eq!(back, values(&r));
    }
}

#[test]
fn json_output_is_a_kubernetes_list() {
    let r = single_with(&options());
    let l = output::json_list(&r);
    assert_eq!((&l["apiVersion"], &l["kind"]), (&v("v1"), &v("List")));
    assert_eq!(l["items"].as_array().map(Vec::len), Some(r.objects.len()));
}

/// The rendered YAML with the ConfigMap's files elided (they have tests of
/// their own above) and the profile's hash masked.
fn snapshot_text(r: &Rendered) -> String {
    let mut r = r.clone();
    for o in &mut r.objects {
        match o {
            super::model::Object::ConfigMap(cm) => {
                for (k, v) in cm.data.iter_mut() {
                    *v = format!("<{k}>");
                }
            }
            super::model::Object::Pod(p) => mask(&mut p.metadata.annotations),
            super::model::Object::Job(j) => {
                mask(&mut j.metadata.annotations);
                mask(&mut j.spec.template.metadata.annotations);
            }
            _ => {}
        }
    }
    output::yaml(&r).expect("yaml")
}

fn mask(a: &mut super::model::Map) {
    if let Some(v) = a.get_mut("finsandbox.dev/seccomp-sha256") {
        *v = "<sha256 of the profile>".into();
    }
}

#[test]
fn snapshot_of_a_single_strategy() {
    insta::assert_snapshot!(snapshot_text(&single_with(&Options {
        runtime_class: Some("gvisor".into()),
        ..options()
    })));
}

#[test]
fn snapshot_of_a_batch() {
    insta::assert_snapshot!(snapshot_text(&batch_with(&Options { parallelism: Some(2), ..options() })));
}

#[test]
fn the_config_knows_exactly_the_gaps_the_renderer_defines() {
    let defined: Vec<&str> = gaps::ALL.iter().map(|g| g.id).collect();
    assert_eq!(defined, crate::config::K8S_GAP_IDS, "config::K8S_GAP_IDS and k8s::gaps::ALL must list the same ids");
}
