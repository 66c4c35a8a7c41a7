//! Reading a file the user named on the host, without trusting what it is.
//!
//! A strategy path, `--config` or `--seccomp-profile` may name anything:
//! `/dev/zero` (endless, so `read_to_end` grows until the host runs out of
//! memory), a FIFO (opening it for reading blocks until a writer appears,
//! which may be never, and no timeout of ours is running yet), a terminal,
//! a directory. This is the one place that opens such paths:
//!
//! - open with `O_NONBLOCK` (a FIFO opens at once instead of waiting for a
//!   writer), `O_NOCTTY` (a terminal never becomes our controlling one) and
//!   `O_CLOEXEC`;
//! - `fstat` the open descriptor (not the path: no window between check
//!   and use) and refuse anything that is not a regular file, naming what
//!   it is;
//! - read at most `limit + 1` bytes, so "too large" is known without
//!   reading the rest (and without trusting `st_size`, which is 0 for
//!   `/proc` files and can change while we read).
//!
//! Every failure is a typed [`ReadError`], so each caller maps it to its
//! own exit code (4 for inputs, 2 for configuration).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open `{}`: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error("`{}` is {kind}, not a regular file", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("`{}` is larger than the {limit}-byte limit", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("cannot read `{}`: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("`{}` is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
}

impl ReadError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Open { path, .. }
            | ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::Read { path, .. }
            | ReadError::NotUtf8 { path } => path,
        }
    }
}

/// Open `path` without blocking and check that it is a regular file.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|source| ReadError::Open { path: path.to_path_buf(), source })?;
    let meta = file.metadata().map_err(|source| ReadError::Read { path: path.to_path_buf(), source })?;
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(file);
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(ReadError::NotRegular { path: path.to_path_buf(), kind })
}

/// The bytes of the regular file at `path`, at most `limit` of them.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    let mut out = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|source| ReadError::Read { path: path.to_path_buf(), source })?;
    if out.len() as u64 > limit {
        return Err(ReadError::TooLarge { path: path.to_path_buf(), limit });
    }
    Ok(out)
}

/// [`read_bounded`], as UTF-8 text.
pub fn read_to_string_bounded(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bounded(path, limit)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8 { path: path.to_path_buf() })
}

/// [`read_bounded`] for callers whose errors carry an `io::Error`: the
/// message names what the path is and why it was refused.
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    read_bounded(path, limit).map_err(|e| {
        let kind = match &e {
            ReadError::Open { source, .. } | ReadError::Read { source, .. } => source.kind(),
            ReadError::TooLarge { .. } | ReadError::NotUtf8 { .. } => std::io::ErrorKind::InvalidData,
            ReadError::NotRegular { .. } => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Run `f` on a thread; a read that blocks would never send, so the
    /// test fails after a bound far above any real read instead of hanging.
    fn promptly<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(60)).expect("the read blocked")
    }

    #[test]
    fn dev_zero_is_refused_as_a_device_without_reading_it() {
        let err = promptly(|| read_bounded(Path::new("/dev/zero"), 1 << 20)).expect_err("/dev/zero");
        assert!(matches!(err, ReadError::NotRegular { kind: "a character device", .. }), "{err}");
        assert!(err.to_string().contains("/dev/zero"), "{err}");
    }

    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("strategy.py");
        let c = CString::new(fifo.as_os_str().as_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        let p = fifo.clone();
        let err = promptly(move || read_bounded(&p, 1 << 20)).expect_err("fifo");
        assert!(matches!(err, ReadError::NotRegular { kind: "a FIFO (named pipe)", .. }), "{err}");
        let p = fifo.clone();
        let err = promptly(move || read_to_string_bounded(&p, 1 << 20)).expect_err("fifo");
        assert!(matches!(err, ReadError::NotRegular { .. }), "{err}");
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_bounded(dir.path(), 100).expect_err("dir");
        assert!(matches!(err, ReadError::NotRegular { kind: "a directory", .. }), "{err}");
    }

    #[test]
    fn a_symlink_to_dev_zero_is_judged_by_its_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("config.yaml");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
        let err = promptly(move || read_to_string_bounded(&link, 1 << 20)).expect_err("symlink");
        assert!(matches!(err, ReadError::NotRegular { kind: "a character device", .. }), "{err}");
    }

    #[test]
    fn the_limit_is_exact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("s.py");
        std::fs::write(&f, vec![b'x'; 1000]).expect("write");
        assert_eq!(read_bounded(&f, 1000).expect("at the limit").len(), 1000);
        let err = read_bounded(&f, 999).expect_err("over");
        assert!(matches!(err, ReadError::TooLarge { limit: 999, .. }), "{err}");
        assert_eq!(err.path(), f.as_path());
        assert!(read_bounded(&f, 0).is_err());
        std::fs::write(&f, b"").expect("write");
        assert_eq!(read_bounded(&f, 0).expect("empty").len(), 0);
    }

    #[test]
    fn a_large_sparse_file_is_refused_after_limit_plus_one_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("big.py");
        let file = File::create(&f).expect("create");
        file.set_len(8 << 30).expect("sparse 8 GiB");
        let err = read_to_string_bounded(&f, 1 << 20).expect_err("too large");
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn missing_files_and_bad_text_are_typed_errors() {
        let err = read_bounded(Path::new("/nonexistent/finsandbox/x.py"), 10).expect_err("missing");
        assert!(matches!(&err, ReadError::Open { source, .. } if source.kind() == std::io::ErrorKind::NotFound));
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("bin.py");
        std::fs::write(&f, [0xff, 0xfe, 0x00]).expect("write");
        assert!(matches!(read_to_string_bounded(&f, 10), Err(ReadError::NotUtf8 { .. })));
        std::fs::write(&f, "héllo").expect("write");
        assert_eq!(read_to_string_bounded(&f, 10).expect("utf8"), "héllo");
    }
}
