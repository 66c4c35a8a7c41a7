//! Rendering findings: text for people, JSON for loops, SARIF for code-scanning
//! tools.

use serde::Serialize;
use serde_json::json;

use super::rules::{Finding, Rule};

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub clean: bool,
    pub findings: Vec<Finding>,
}

pub fn text(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        if r.clean {
            out.push_str(&format!("{}: clean\n", r.path));
            continue;
        }
        for f in &r.findings {
            out.push_str(&format!("{}:{}:{}: {} {}\n", r.path, f.line, f.column, f.rule.id(), f.message));
            if !f.text.is_empty() {
                out.push_str(&format!("    | {}\n", f.text));
            }
        }
    }
    let bad = reports.iter().filter(|r| !r.clean).count();
    let total: usize = reports.iter().map(|r| r.findings.len()).sum();
    out.push_str(&format!("{} file(s), {bad} rejected, {total} finding(s)\n", reports.len()));
    out
}

pub fn json(reports: &[FileReport]) -> serde_json::Value {
    json!({
        "schema_version": 1,
        "clean": reports.iter().all(|r| r.clean),
        "files": reports,
    })
}

/// SARIF 2.1.0, the subset code-scanning tools read.
pub fn sarif(reports: &[FileReport]) -> serde_json::Value {
    let rules: Vec<_> = Rule::ALL
        .iter()
        .map(|r| json!({"id": r.id(), "name": r.title(), "shortDescription": {"text": r.title()}}))
        .collect();
    let results: Vec<_> = reports
        .iter()
        .flat_map(|r| {
            r.findings.iter().map(move |f| {
                json!({
                    "ruleId": f.rule.id(),
                    "level": "error",
                    "message": {"text": f.message},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": {"uri": r.path},
                            "region": {"startLine": f.line, "startColumn": f.column, "snippet": {"text": f.text}},
                        }
                    }],
                })
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "finsandbox", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::{screen, Policy};

    fn report() -> Vec<FileReport> {
        let findings = screen(b"import os\n", &Policy::default());
        vec![FileReport { path: "s.py".into(), clean: findings.is_empty(), findings }]
    }

    #[test]
    fn text_names_file_line_column_and_rule() {
        let t = text(&report());
        assert!(t.starts_with("s.py:1:8: FS001 import of `os` is not allowed"), "{t}");
        assert!(t.contains("1 rejected, 1 finding(s)"));
    }

    #[test]
    fn sarif_has_rules_and_located_results() {
        let s = sarif(&report());
        assert_eq!(s["version"], "2.1.0");
        assert_eq!(s["runs"][0]["tool"]["driver"]["rules"].as_array().map(Vec::len), Some(Rule::ALL.len()));
        let r = &s["runs"][0]["results"][0];
        assert_eq!(r["ruleId"], "FS001");
        assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    }

    #[test]
    fn json_has_clean_flag_and_findings() {
        let j = json(&report());
        assert_eq!(j["clean"], false);
        assert_eq!(j["files"][0]["findings"][0]["rule"], "FS001");
        assert_eq!(j["files"][0]["findings"][0]["severity"], "error");
    }
}
