//! What the container may see of the data: only the Parquet tables, under a
//! neutral path. A data directory can hold anything (notes, keys, a
//! `secret.txt` beside the tables), and a bind mount's source path shows in
//! the container's `/proc/self/mountinfo`; so the tables are staged in a
//! private directory named after the run, and only that is mounted.
//!
//! Staging is a hard link where the file system allows it (free, and the
//! read-only mount protects the original), else a copy. The stage goes with
//! the run ([`Stage`] removes it on drop); `cleanup` removes the stage of
//! any orphan it reaps.

use std::path::{Path, PathBuf};

/// Where stages live: one directory per run under the system's temp
/// directory, per user.
pub fn stage_root() -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("finsandbox-stage-{uid}"))
}

/// A run's staged data; removed on drop.
pub struct Stage {
    dir: PathBuf,
    /// What to mount at the data target: the staged file, or the staged
    /// directory of tables.
    pub source: PathBuf,
}

impl Stage {
    /// The run's private directory (the stage's parent, never mounted): the
    /// engine CLI's working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the engine CLI writes the container's id (`--cidfile`): in the
    /// run's private directory, beside (never inside) what is mounted.
    pub fn cidfile(&self) -> PathBuf {
        self.dir.join("container.id")
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stage `data` (a Parquet file, or a directory of `TABLE.parquet` files)
/// for run `run_id`.
pub fn stage(data: &Path, run_id: &str) -> std::io::Result<Stage> {
    let root = stage_root();
    create_private_dir(&root, 0o711)?;
    let dir = root.join(run_id);
    create_private_dir(&dir, 0o755)?;
    let stage = Stage { dir: dir.clone(), source: dir.join("market") };
    if data.is_dir() {
        std::fs::create_dir(&stage.source)?;
        set_mode(&stage.source, 0o755)?;
        for table in tables(data)? {
            if let Some(name) = table.file_name() {
                link_or_copy(&table, &stage.source.join(name))?;
            }
        }
    } else {
        link_or_copy(data, &stage.source)?;
    }
    Ok(stage)
}

/// The `*.parquet` regular files directly in `dir`; nothing else.
pub fn tables(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    crate::score::tables_in(dir).map(|t| t.into_iter().map(|(_, p)| p).collect()).map_err(std::io::Error::other)
}

/// The content hash of the data a run sees: the file, or each table's
/// name and content in name order. Remembered per (path, size, mtime) for
/// the life of the process, so a batch hashes its data once.
pub fn content_sha256(data: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Key = (PathBuf, u64, Option<std::time::SystemTime>);
    static CACHE: OnceLock<Mutex<HashMap<Key, String>>> = OnceLock::new();
    let files = if data.is_dir() { tables(data)? } else { vec![data.to_path_buf()] };
    let mut keys = Vec::new();
    for f in &files {
        let m = std::fs::metadata(f)?;
        keys.push((f.clone(), m.len(), m.modified().ok()));
    }
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key: Key = (data.to_path_buf(), keys.iter().map(|k| k.1).sum(), keys.iter().filter_map(|k| k.2).max());
    if let Some(h) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(h.clone());
    }
    let mut h = Sha256::new();
    for f in &files {
        if data.is_dir() {
            h.update(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
            h.update([0]);
        }
        let mut file = std::fs::File::open(f)?;
        std::io::copy(&mut file, &mut h)?;
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key, hex.clone());
    Ok(hex)
}

/// Remove the stage of run `run_id`, if any (for `cleanup`).
pub fn remove_stage(run_id: &str) {
    if !run_id.is_empty() && run_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        let _ = std::fs::remove_dir_all(stage_root().join(run_id));
    }
}

fn create_private_dir(dir: &Path, mode: u32) -> std::io::Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => set_mode(dir, mode),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Someone else's directory at our path must not receive our data.
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::symlink_metadata(dir)?;
            // SAFETY: getuid has no preconditions and cannot fail.
            let me = unsafe { libc::getuid() };
            if !meta.is_dir() || meta.uid() != me {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("`{}` exists and is not a directory of this user", dir.display()),
                ));
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)?;
    set_mode(to, 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_parquet_tables_are_staged() {
        let data = tempfile::tempdir().expect("tmp");
        std::fs::write(data.path().join("price.parquet"), b"PAR1").expect("write");
        std::fs::write(data.path().join("secret.txt"), b"key").expect("write");
        let s = stage(data.path(), "0123456789abcdef").expect("stages");
        let names: Vec<String> = std::fs::read_dir(&s.source)
            .expect("staged")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["price.parquet"]);
        let dir = s.dir.clone();
        drop(s);
        assert!(!dir.exists(), "the stage goes with the run");
        std::fs::create_dir(data.path().join("sub.parquet")).expect("mkdir");
        assert!(stage(data.path(), "0123456789abcdee").is_err(), "a directory named like a table is refused");
    }

    #[test]
    fn a_file_is_staged_under_a_neutral_name() {
        let data = tempfile::tempdir().expect("tmp");
        let f = data.path().join("my-fund-secret-alpha.parquet");
        std::fs::write(&f, b"PAR1").expect("write");
        let s = stage(&f, "fedcba9876543210").expect("stages");
        assert_eq!(s.source.file_name().and_then(|n| n.to_str()), Some("market"));
        assert_eq!(std::fs::read(&s.source).expect("read"), b"PAR1");
    }
}
