//! Which strategies a `--batch` render holds, read from `--manifest PATH`.
//!
//! Kept small and apart so it can follow the run directory of `batch
//! submit` when that lands. Accepted, in this order:
//!
//! 1. a directory holding `manifest.json`: `{"strategies": [{"path": ...,
//!    "sha256": ...}, ...]}`; relative paths are the directory's, `sha256`
//!    is optional and, when given, must match the file (a changed strategy
//!    is an error, never rendered in its place);
//! 2. a `.json` file of that form (paths relative to its directory);
//! 3. a directory without `manifest.json`: its `*.py` files, by name;
//! 4. any other file: one strategy path per line (blank lines and `#`
//!    comments skipped), relative to the file's directory.
//!
//! The order read is the completion index order of the Indexed Job.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::InputError;

/// The manifest's name inside a run directory.
pub const MANIFEST: &str = "manifest.json";
/// Manifests and lists are small; anything larger is a mistake.
const MAX_BYTES: u64 = 16 << 20;

#[derive(Deserialize)]
struct Manifest {
    strategies: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    path: PathBuf,
    #[serde(default)]
    sha256: Option<String>,
}

/// One strategy of the manifest: its path, and the hash the manifest
/// recorded (checked by the caller against the bytes it reads).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub path: PathBuf,
    pub sha256: Option<String>,
}

pub fn read(path: &Path) -> Result<Vec<Item>, InputError> {
    let bad = |message: String| InputError::Manifest { path: path.to_path_buf(), message };
    let items = if path.is_dir() {
        let m = path.join(MANIFEST);
        if m.is_file() {
            from_json(&m, path)?
        } else {
            python_files(path).map_err(|e| bad(format!("cannot list the directory: {e}")))?
        }
    } else if path.extension().is_some_and(|e| e == "json") {
        from_json(path, parent(path))?
    } else {
        from_list(path)?
    };
    if items.is_empty() {
        return Err(bad("it names no strategies".into()));
    }
    Ok(items)
}

fn parent(p: &Path) -> &Path {
    p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn text(path: &Path) -> Result<String, InputError> {
    let bad = |message: String| InputError::Manifest { path: path.to_path_buf(), message };
    let bytes = crate::fsread::read_regular(path, MAX_BYTES).map_err(|e| bad(format!("cannot read it: {e}")))?;
    String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))
}

fn from_json(file: &Path, base: &Path) -> Result<Vec<Item>, InputError> {
    let m: Manifest = serde_json::from_str(&text(file)?)
        .map_err(|e| InputError::Manifest { path: file.to_path_buf(), message: format!("not a manifest: {e}") })?;
    Ok(m.strategies.into_iter().map(|e| Item { path: base.join(e.path), sha256: e.sha256 }).collect())
}

fn from_list(file: &Path) -> Result<Vec<Item>, InputError> {
    let base = parent(file);
    Ok(text(file)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| Item { path: base.join(l), sha256: None })
        .collect())
}

fn python_files(dir: &Path) -> std::io::Result<Vec<Item>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "py"))
        .collect();
    v.sort();
    Ok(v.into_iter().map(|path| Item { path, sha256: None }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        for (name, body) in files {
            std::fs::write(d.path().join(name), body).expect("write");
        }
        d
    }

    #[test]
    fn a_run_dir_manifest_wins_over_the_python_files_beside_it() {
        let d = dir_with(&[
            ("a.py", "x"),
            ("b.py", "y"),
            (MANIFEST, r#"{"strategies":[{"path":"b.py","sha256":"abc"},{"path":"/abs/c.py"}]}"#),
        ]);
        let items = read(d.path()).expect("reads");
        assert_eq!(items[0], Item { path: d.path().join("b.py"), sha256: Some("abc".into()) });
        assert_eq!(items[1].path, PathBuf::from("/abs/c.py"));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn a_directory_of_python_files_in_name_order() {
        let d = dir_with(&[("b.py", ""), ("a.py", ""), ("notes.txt", "")]);
        let paths: Vec<PathBuf> = read(d.path()).expect("reads").into_iter().map(|i| i.path).collect();
        assert_eq!(paths, [d.path().join("a.py"), d.path().join("b.py")]);
    }

    #[test]
    fn a_list_file_with_comments_relative_to_itself() {
        let d = dir_with(&[("list.txt", "# batch\na.py\n\n sub/b.py \n")]);
        let paths: Vec<PathBuf> =
            read(&d.path().join("list.txt")).expect("reads").into_iter().map(|i| i.path).collect();
        assert_eq!(paths, [d.path().join("a.py"), d.path().join("sub/b.py")]);
    }

    #[test]
    fn empty_missing_or_malformed_is_an_input_error() {
        let d = dir_with(&[("bad.json", "{\"strategies\": 3}"), ("empty.txt", "# nothing\n")]);
        for p in [d.path().join("bad.json"), d.path().join("empty.txt"), d.path().join("missing.txt")] {
            assert!(matches!(read(&p), Err(InputError::Manifest { .. })), "{p:?}");
        }
        let empty = tempfile::tempdir().expect("tempdir");
        assert!(read(empty.path()).is_err());
    }
}
