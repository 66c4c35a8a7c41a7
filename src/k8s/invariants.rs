//! The invariant checker of the renderer's tests: every hardening field,
//! in every container of every pod template of a render, so a container
//! added later is checked without a new test.

use serde_json::Value;

// ---- the invariant checker -------------------------------------------------

/// Every pod spec among the objects, with the labels its pods carry: a Pod's
/// own, a Job's template's.
pub(super) fn pod_specs(objects: &[Value]) -> Vec<(&Value, &Value)> {
    let mut v = Vec::new();
    for o in objects {
        match o["kind"].as_str() {
            Some("Pod") => v.push((&o["spec"], &o["metadata"]["labels"])),
            Some("Job") => v.push((&o["spec"]["template"]["spec"], &o["spec"]["template"]["metadata"]["labels"])),
            _ => {}
        }
    }
    v
}

/// Every container of a pod spec, whatever list it is in.
pub(super) fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec[k].as_array())
        .flatten()
        .collect()
}

/// What is wrong with the objects, as sentences; empty when every
/// hardening field is in place everywhere.
pub(super) fn violations(objects: &[Value]) -> Vec<String> {
    let mut bad = Vec::new();
    let specs = pod_specs(objects);
    if specs.is_empty() {
        bad.push("no pod spec rendered".into());
    }
    for (spec, labels) in specs {
        pod_violations(spec, &mut bad);
        let names: Vec<&Value> = containers(spec);
        if names.is_empty() {
            bad.push("a pod without containers".into());
        }
        for c in names {
            container_violations(spec, c, &mut bad);
        }
        if !deny_all_selects(objects, labels) {
            bad.push(format!("no deny-all NetworkPolicy selects the labels {labels}"));
        }
    }
    bad
}

pub(super) fn expect(bad: &mut Vec<String>, what: &str, got: &Value, want: Value) {
    if *got != want {
        bad.push(format!("{what} is {got}, want {want}"));
    }
}

pub(super) fn pod_violations(spec: &Value, bad: &mut Vec<String>) {
    expect(bad, "restartPolicy", &spec["restartPolicy"], "Never".into());
    expect(bad, "automountServiceAccountToken", &spec["automountServiceAccountToken"], false.into());
    expect(bad, "enableServiceLinks", &spec["enableServiceLinks"], false.into());
    for k in ["hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace"] {
        if spec[k] != Value::Null && spec[k] != false {
            bad.push(format!("{k} is {}", spec[k]));
        }
    }
    expect(bad, "dnsPolicy", &spec["dnsPolicy"], "None".into());
    let ns = spec["dnsConfig"]["nameservers"].as_array().cloned().unwrap_or_default();
    if ns.is_empty() || ns.iter().any(|n| n.as_str().is_none_or(|n| !n.starts_with("127."))) {
        bad.push(format!("dnsConfig.nameservers {ns:?} are not loopback only"));
    }
    expect(bad, "pod runAsNonRoot", &spec["securityContext"]["runAsNonRoot"], true.into());
    expect(bad, "pod runAsUser", &spec["securityContext"]["runAsUser"], 1000.into());
    expect(bad, "pod seccompProfile.type", &spec["securityContext"]["seccompProfile"]["type"], "Localhost".into());
    if spec["activeDeadlineSeconds"].as_u64().is_none_or(|s| s == 0) {
        bad.push("no activeDeadlineSeconds".into());
    }
    for v in spec["volumes"].as_array().into_iter().flatten() {
        if v.get("hostPath").is_some() {
            bad.push(format!("hostPath volume {}", v["name"]));
        }
        if let Some(e) = v.get("emptyDir") {
            expect(bad, &format!("emptyDir {} medium", v["name"]), &e["medium"], "Memory".into());
            if e["sizeLimit"].as_str().is_none_or(str::is_empty) {
                bad.push(format!("emptyDir {} has no sizeLimit", v["name"]));
            }
        }
        if let Some(p) = v.get("persistentVolumeClaim") {
            expect(bad, &format!("claim {} readOnly", v["name"]), &p["readOnly"], true.into());
        }
    }
}

pub(super) fn volume<'a>(spec: &'a Value, name: &Value) -> Option<&'a Value> {
    spec["volumes"].as_array()?.iter().find(|v| &v["name"] == name)
}

pub(super) fn container_violations(spec: &Value, c: &Value, bad: &mut Vec<String>) {
    let n = c["name"].as_str().unwrap_or("<unnamed>");
    let sc = &c["securityContext"];
    for (field, want) in [
        ("runAsNonRoot", Value::from(true)),
        ("runAsUser", 1000.into()),
        ("runAsGroup", 1000.into()),
        ("readOnlyRootFilesystem", true.into()),
        ("allowPrivilegeEscalation", false.into()),
        ("procMount", "Default".into()),
    ] {
        expect(bad, &format!("{n}: securityContext.{field}"), &sc[field], want);
    }
    if sc["privileged"] != Value::Null && sc["privileged"] != false {
        bad.push(format!("{n}: privileged"));
    }
    expect(bad, &format!("{n}: capabilities.drop"), &sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    if sc["capabilities"].get("add").is_some() {
        bad.push(format!("{n}: capabilities.add"));
    }
    expect(bad, &format!("{n}: seccompProfile.type"), &sc["seccompProfile"]["type"], "Localhost".into());
    if sc["seccompProfile"]["localhostProfile"].as_str().is_none_or(str::is_empty) {
        bad.push(format!("{n}: seccompProfile.localhostProfile"));
    }
    let r = &c["resources"];
    for k in ["cpu", "memory", "ephemeral-storage"] {
        if r["limits"][k].as_str().is_none_or(str::is_empty) {
            bad.push(format!("{n}: no {k} limit"));
        }
    }
    if r["requests"] != r["limits"] {
        bad.push(format!("{n}: requests {} differ from limits {}", r["requests"], r["limits"]));
    }
    for m in c["volumeMounts"].as_array().into_iter().flatten() {
        let Some(v) = volume(spec, &m["name"]) else {
            bad.push(format!("{n}: mount of unknown volume {}", m["name"]));
            continue;
        };
        if (v.get("persistentVolumeClaim").is_some() || v.get("configMap").is_some()) && m["readOnly"] != true {
            bad.push(format!("{n}: {} mounted writable", m["name"]));
        }
    }
    let tmp = c["volumeMounts"].as_array().into_iter().flatten().find(|m| m["mountPath"] == "/tmp");
    match tmp.and_then(|m| volume(spec, &m["name"])) {
        Some(v) if v["emptyDir"]["medium"] == "Memory" => {}
        _ => bad.push(format!("{n}: /tmp is not a memory-backed emptyDir")),
    }
}

/// A NetworkPolicy with no rules, both policy types, selecting a subset of
/// `labels`.
pub(super) fn deny_all_selects(objects: &[Value], labels: &Value) -> bool {
    objects.iter().filter(|o| o["kind"] == "NetworkPolicy").any(|np| {
        let s = &np["spec"];
        let types = s["policyTypes"].as_array().cloned().unwrap_or_default();
        let selects = s["podSelector"]["matchLabels"]
            .as_object()
            .is_some_and(|m| !m.is_empty() && m.iter().all(|(k, v)| &labels[k] == v));
        selects
            && types.contains(&"Ingress".into())
            && types.contains(&"Egress".into())
            && s.get("ingress").is_none()
            && s.get("egress").is_none()
    })
}
