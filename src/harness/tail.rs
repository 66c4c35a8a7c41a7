//! A byte buffer that keeps only the last `limit` bytes written to it.
//!
//! Container output is untrusted in volume: a strategy can print gigabytes.
//! The tail is what a user needs (the end holds the traceback), and a fixed
//! cap keeps host memory flat however much is written.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct Tail {
    buf: VecDeque<u8>,
    limit: usize,
    total: u64,
}

impl Tail {
    pub fn new(limit: usize) -> Self {
        Tail { buf: VecDeque::with_capacity(limit.min(64 * 1024)), limit, total: 0 }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        let keep = &data[data.len().saturating_sub(self.limit)..];
        let overflow = (self.buf.len() + keep.len()).saturating_sub(self.limit);
        self.buf.drain(..overflow);
        self.buf.extend(keep);
    }

    /// Bytes seen but deliberately not kept (after the stream was judged corrupt).
    pub fn count_discarded(&mut self, n: usize) {
        self.total += n as u64;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn truncated(&self) -> bool {
        self.total > self.buf.len() as u64
    }

    /// The kept bytes as text; invalid UTF-8 (a cut in the middle of a
    /// character included) becomes U+FFFD.
    pub fn text(&self) -> String {
        let (a, b) = self.buf.as_slices();
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_under_the_limit() {
        let mut t = Tail::new(10);
        t.push(b"abc");
        t.push(b"def");
        assert_eq!(t.text(), "abcdef");
        assert!(!t.truncated());
    }

    #[test]
    fn keeps_only_the_last_bytes_over_the_limit() {
        let mut t = Tail::new(5);
        t.push(b"abc");
        t.push(b"defgh");
        assert_eq!(t.text(), "defgh");
        t.push(b"0123456789");
        assert_eq!(t.text(), "56789");
        assert!(t.truncated());
        assert_eq!(t.total(), 18);
    }

    #[test]
    fn memory_stays_bounded_under_a_flood() {
        let mut t = Tail::new(1024);
        let chunk = vec![b'x'; 65536];
        for _ in 0..200 {
            t.push(&chunk);
        }
        assert_eq!(t.text().len(), 1024);
        assert!(t.buf.capacity() < 256 * 1024, "capacity {}", t.buf.capacity());
        assert_eq!(t.total(), 200 * 65536);
    }
}
