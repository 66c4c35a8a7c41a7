//! Notebooks and notebook exports: the exact code that will run.
//!
//! Quant researchers write in notebooks, and Colab exports begin with
//! `!pip install ...`. `exec notebook.ipynb` runs the notebook's code cells
//! in order; in a `.py` export (and in notebook cells) IPython magics —
//! shell escapes `!cmd`, line magics `%magic`, cell magics `%%magic` — are
//! dropped with a warning naming each line, never executed (the sandbox has
//! no shell and no IPython anyway). [`prepare`] returns the code that will
//! run, and that is what screening must see: nothing runs that was not
//! screened, and nothing is screened that will not run.
//!
//! Pure: text in, text and warnings out.

use std::path::Path;

/// The code that will run, and what was done to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub code: String,
    /// One warning per dropped magic line (with its line number) or cell.
    pub warnings: Vec<String>,
    /// The source was a notebook (`.ipynb`).
    pub notebook: bool,
}

/// Whether [`prepare`] would change anything: a `.ipynb` path, or a source
/// with a magic line.
pub fn needs_preparation(path: &Path, source: &str) -> bool {
    is_notebook(path) || !magic_lines(source).is_empty()
}

fn is_notebook(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ipynb"))
}

/// A `.ipynb` → its code cells joined in order (magics dropped); any other
/// file → the source with its magic lines dropped. Errors are for a notebook
/// that is not notebook JSON.
pub fn prepare(path: &Path, source: &str) -> Result<Prepared, String> {
    if is_notebook(path) {
        return from_notebook(source);
    }
    let (code, warnings) = drop_magics(source, None);
    Ok(Prepared { code, warnings, notebook: false })
}

fn from_notebook(json: &str) -> Result<Prepared, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not a Jupyter notebook (invalid JSON: {e})"))?;
    let cells = v
        .get("cells")
        .and_then(|c| c.as_array())
        .ok_or("not a Jupyter notebook: no `cells` list (nbformat 4 is supported)")?;
    let mut code = String::new();
    let mut warnings = Vec::new();
    let mut n = 0;
    for cell in cells {
        if cell.get("cell_type").and_then(|t| t.as_str()) != Some("code") {
            continue;
        }
        n += 1;
        let text = match cell.get("source") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(parts)) => {
                let mut s = String::new();
                for p in parts {
                    s.push_str(p.as_str().ok_or(format!("code cell {n}: `source` holds a non-string"))?);
                }
                s
            }
            None => String::new(),
            Some(_) => return Err(format!("code cell {n}: `source` is neither a string nor a list of strings")),
        };
        if let Some(first) = text.lines().find(|l| !l.trim().is_empty()) {
            if first.trim_start().starts_with("%%") {
                warnings.push(format!(
                    "code cell {n} starts with the cell magic `{}`: the whole cell is dropped, not run",
                    first.trim()
                ));
                continue;
            }
        }
        let (cell_code, w) = drop_magics(&text, Some(n));
        warnings.extend(w);
        code.push_str(&format!("# --- code cell {n} ---\n"));
        code.push_str(&cell_code);
        if !code.ends_with('\n') {
            code.push('\n');
        }
    }
    Ok(Prepared { code, warnings, notebook: true })
}

/// Line numbers (1-based) of magic lines: a line whose first non-blank
/// character is `!` or `%` outside a triple-quoted string, plus the
/// backslash continuations of such a line.
fn magic_lines(source: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut in_triple: Option<&str> = None;
    let mut continuing = false;
    for (i, line) in source.lines().enumerate() {
        let t = line.trim_start();
        if in_triple.is_none() && (continuing || t.starts_with('!') || t.starts_with('%')) {
            out.push(i + 1);
            continuing = line.trim_end().ends_with('\\');
            continue;
        }
        continuing = false;
        in_triple = scan_triple(line, in_triple);
    }
    out
}

/// Track triple-quoted strings across a line (comments and one-line strings
/// are skipped); returns the open delimiter at the end of the line.
fn scan_triple<'a>(line: &str, mut open: Option<&'a str>) -> Option<&'a str> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if let Some(q) = open {
            if line[i..].starts_with(q) {
                open = None;
                i += 3;
                continue;
            }
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        match b[i] {
            b'#' => return None,
            b'"' | b'\'' => {
                let q: &'a str = if b[i] == b'"' { "\"\"\"" } else { "'''" };
                if line[i..].starts_with(q) {
                    open = Some(q);
                    i += 3;
                    continue;
                }
                // A one-line string: skip to its closing quote.
                let quote = b[i];
                i += 1;
                while i < b.len() && b[i] != quote {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    open
}

/// Drop magic lines: each becomes an empty line (an indented one `pass`,
/// so a block stays a block), keeping every other line where it was so
/// tracebacks point at the right line.
fn drop_magics(source: &str, cell: Option<usize>) -> (String, Vec<String>) {
    let magics = magic_lines(source);
    if magics.is_empty() {
        return (source.to_string(), Vec::new());
    }
    let mut out = String::with_capacity(source.len());
    let mut warnings = Vec::new();
    let mut k = 0;
    for (i, line) in source.split_inclusive('\n').enumerate() {
        if magics.get(k) == Some(&(i + 1)) {
            k += 1;
            let body = line.trim_end_matches(['\n', '\r']);
            let place = match cell {
                Some(c) => format!("code cell {c}, line {}", i + 1),
                None => format!("line {}", i + 1),
            };
            warnings.push(format!("{place}: IPython magic `{}` dropped (not run)", body.trim()));
            let indent = &body[..body.len() - body.trim_start().len()];
            let opens = body.trim_start().starts_with(['!', '%']);
            if !indent.is_empty() && opens {
                out.push_str(indent);
                out.push_str("pass");
            }
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colab_export_loses_its_magics_with_a_warning_per_line() {
        let src = "!pip install finlab \\\n    pandas\n%matplotlib inline\nfrom finlab import data\nclose = data.get('price:收盤價')\n";
        let p = prepare(Path::new("export.py"), src).expect("ok");
        assert_eq!(p.code, "\n\n\nfrom finlab import data\nclose = data.get('price:收盤價')\n");
        assert_eq!(p.warnings.len(), 3, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("line 1") && p.warnings[0].contains("!pip install finlab"));
        assert!(p.warnings[2].contains("%matplotlib inline"));
        assert!(!p.notebook);
        assert!(needs_preparation(Path::new("export.py"), src));
        assert!(!needs_preparation(Path::new("plain.py"), "x = 1 % 2\n"));
    }

    #[test]
    fn magics_inside_strings_and_expressions_stay() {
        let src = "doc = \"\"\"\n!not a magic\n%neither\n\"\"\"\nx = 5 % 3\nif x:\n    !ls\n";
        let p = prepare(Path::new("s.py"), src).expect("ok");
        assert!(p.code.contains("!not a magic\n%neither\n"), "{}", p.code);
        assert!(p.code.contains("x = 5 % 3"));
        assert!(p.code.ends_with("if x:\n    pass\n"), "an indented magic keeps the block valid: {}", p.code);
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn a_notebook_runs_its_code_cells_in_order() {
        let nb = r##"{"nbformat": 4, "cells": [
            {"cell_type": "markdown", "source": ["# Title\n", "!not code"]},
            {"cell_type": "code", "source": ["!pip install finlab\n", "from finlab import data\n"]},
            {"cell_type": "code", "source": "%%time\nimport os\n"},
            {"cell_type": "code", "source": ["close = data.get('price:收盤價')\n", "position = close > 0"]}
        ]}"##;
        let p = prepare(Path::new("research.ipynb"), nb).expect("ok");
        assert!(p.notebook);
        let expected = "# --- code cell 1 ---\n\nfrom finlab import data\n# --- code cell 3 ---\nclose = data.get('price:收盤價')\nposition = close > 0\n";
        assert_eq!(p.code, expected);
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("code cell 1, line 1"));
        assert!(p.warnings[1].contains("cell magic `%%time`"));
        assert!(!p.code.contains("import os"), "a dropped cell's code never runs");
    }

    #[test]
    fn a_broken_notebook_is_a_clear_error() {
        assert!(prepare(Path::new("x.ipynb"), "not json").expect_err("json").contains("not a Jupyter notebook"));
        assert!(prepare(Path::new("x.ipynb"), "{}").expect_err("cells").contains("cells"));
        let bad = r#"{"cells": [{"cell_type": "code", "source": 3}]}"#;
        assert!(prepare(Path::new("x.ipynb"), bad).is_err());
    }
}
