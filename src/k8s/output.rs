//! How a render is printed: YAML documents under a comment header (`-o
//! yaml`, the default), a Kubernetes `List` (`-o json`), or finsandbox's own
//! JSON document under `--json`, whose `hardening.gaps` says what was
//! accepted. All three carry the gaps: the header, the annotation on the
//! Pod or Job (in every format), and the document's field.

use serde::Serialize;

use super::gaps::Gap;
use super::model::Object;
use super::Rendered;

/// YAML documents, `---` separated, after a header that names the version,
/// the gaps and what a node needs before the objects can run.
pub fn yaml(r: &Rendered) -> Result<String, String> {
    let mut out = header(r);
    for o in &r.objects {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(o).map_err(|e| format!("serialising to YAML: {e}"))?);
    }
    Ok(out)
}

fn header(r: &Rendered) -> String {
    let mut h = format!(
        "# Rendered by finsandbox {} for Kubernetes {} (`kubectl apply -f`).\n",
        env!("CARGO_PKG_VERSION"),
        r.version
    );
    h.push_str("# Every node that may run it needs the seccomp profile under the kubelet's seccomp root:\n");
    h.push_str(&format!("#   finsandbox seccomp show > /var/lib/kubelet/seccomp/{}\n", r.seccomp_localhost_profile));
    h.push_str("# Hardening gaps, accepted in config (k8s.accept_gaps); see docs/scale-out.md:\n");
    for g in &r.gaps {
        h.push_str(&format!("#   {}: {}\n", g.id, g.docker));
    }
    h
}

/// A `v1` `List` of the objects, as `kubectl apply -f` reads JSON.
pub fn json_list(r: &Rendered) -> serde_json::Value {
    serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": r.objects })
}

/// finsandbox's document for `--json`.
#[derive(Serialize)]
pub struct Document<'a> {
    pub schema_version: u32,
    pub name: &'a str,
    pub kubernetes_version: String,
    pub hardening: Hardening<'a>,
    pub objects: &'a [Object],
}

#[derive(Serialize)]
pub struct Hardening<'a> {
    pub gaps: &'a [Gap],
}

pub fn document(r: &Rendered) -> Document<'_> {
    Document {
        schema_version: crate::printer::SCHEMA_VERSION,
        name: &r.name,
        kubernetes_version: r.version.to_string(),
        hardening: Hardening { gaps: &r.gaps },
        objects: &r.objects,
    }
}
