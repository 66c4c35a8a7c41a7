//! JSON Lines files that several processes append to at once: `batch --out`,
//! a Slurm run directory's shard files and events, the audit log.
//!
//! One line is one `write` under an exclusive `flock` on the file itself, so
//! lines never interleave, even where `O_APPEND` alone is not atomic (network
//! file systems). A writer killed mid-line leaves a torn last line; the next
//! append ends it first (one newline, under the same lock), so the torn
//! fragment never swallows a whole line, and readers skip what does not
//! parse.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Append `line` (without its newline) to `f`, which must be open for
/// appending and reading.
pub fn append(f: &mut File, line: &str) -> std::io::Result<()> {
    let fd = f.as_raw_fd();
    // SAFETY: a valid open descriptor; flock has no memory effects.
    if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let r = (|| {
        let mut buf = Vec::with_capacity(line.len() + 2);
        let len = f.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))?;
            f.read_exact(&mut last)?;
            if last[0] != b'\n' {
                buf.push(b'\n');
            }
        }
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        f.write_all(&buf)?;
        f.flush()
    })();
    // SAFETY: as above.
    unsafe { libc::flock(fd, libc::LOCK_UN) };
    r
}

/// Open (creating it) the file at `path` the way [`append`] needs it.
pub fn open(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new().create(true).read(true).append(true).open(path)
}

/// [`open`] then [`append`]: for writers that append rarely.
pub fn append_to(path: &Path, line: &str) -> std::io::Result<()> {
    append(&mut open(path)?, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_ended_before_the_next_and_whole_lines_are_left_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("r.jsonl");
        append_to(&p, "{\"a\":1}").expect("append to a new file");
        append_to(&p, "{\"b\":2}").expect("append");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "{\"a\":1}\n{\"b\":2}\n");
        std::fs::write(&p, b"{\"torn\":\"\xe7\xad").expect("a line cut inside a UTF-8 sequence");
        let mut f = open(&p).expect("open");
        append(&mut f, "{\"c\":3}").expect("append");
        append(&mut f, "{\"d\":4}").expect("append");
        let bytes = std::fs::read(&p).expect("read");
        let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        assert_eq!(lines[1..], [&b"{\"c\":3}"[..], b"{\"d\":4}", b""]);
    }

    #[test]
    fn a_file_not_open_for_reading_is_an_error_not_a_glued_line() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("r.jsonl");
        std::fs::write(&p, "torn").expect("write");
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).expect("open");
        assert!(append(&mut f, "{}").is_err());
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "torn");
    }
}
