//! Reading a file the user named, safely: never a device, a FIFO or a
//! directory, never more than the limit. `/dev/zero` or a FIFO given as a
//! strategy, config or profile must be an immediate, clear error, not an
//! unbounded read or a hang.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Read `path` if it is a regular file of at most `limit` bytes. Opened
/// non-blocking (a FIFO cannot hang the open), checked with `fstat` on the
/// opened descriptor (no race with a swapped path), read to `limit + 1`.
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let f = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("larger than {limit} bytes")));
    }
    Ok(buf)
}
