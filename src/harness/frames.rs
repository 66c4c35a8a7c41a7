//! Decoding the harness's stdout: a stream of frames, read incrementally.
//!
//! Frame: `b"FSB"`, a kind byte, a big-endian `u32` length, the payload. The
//! decoder never trusts a length: payloads go into bounded buffers (stdout
//! chunks into a capped tail, the position up to its own limit), so whatever
//! the container writes, host memory stays bounded. Anything that does not
//! parse as a frame marks the stream corrupt; the run is then
//! `invalid_output`, never a guess.

use super::tail::Tail;

const MAGIC: &[u8; 3] = b"FSB";
const HEADER: usize = 8;
/// The summary frame is small JSON; anything larger is not ours.
const MAX_SUMMARY: usize = 1 << 20;
/// What a frame header may make the decoder reserve before its payload arrives.
const RESERVE_AHEAD: usize = 1 << 16;

#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    pub stdout: Tail,
    pub position: Option<Vec<u8>>,
    pub summary: Option<Vec<u8>>,
    /// The harness's READY frame arrived: its trusted phase is over.
    pub ready: bool,
    /// Why the stream stopped being trusted, if it did.
    pub corrupt: Option<String>,
    max_position: usize,
    /// Payload bytes still to skip or collect for the current frame.
    current: Option<(u8, usize)>,
}

impl Decoder {
    pub fn new(stdout_limit: usize, max_position: usize) -> Self {
        Decoder {
            buf: Vec::new(),
            stdout: Tail::new(stdout_limit),
            position: None,
            summary: None,
            ready: false,
            corrupt: None,
            max_position,
            current: None,
        }
    }

    /// Feed the next bytes read from the container's stdout.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.corrupt.is_some() {
                // Keep counting bytes for the report, keep nothing.
                self.stdout.count_discarded(data.len());
                return;
            }
            match self.current {
                None => {
                    let need = HEADER - self.buf.len();
                    let take = need.min(data.len());
                    self.buf.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.buf.len() == HEADER {
                        self.start_frame();
                    }
                }
                Some((kind, remaining)) => {
                    let take = remaining.min(data.len());
                    let chunk = &data[..take];
                    data = &data[take..];
                    match kind {
                        b'O' => self.stdout.push(chunk),
                        _ => self.buf.extend_from_slice(chunk),
                    }
                    let left = remaining - take;
                    if left == 0 {
                        self.end_frame(kind);
                    } else {
                        self.current = Some((kind, left));
                    }
                }
            }
        }
    }

    fn start_frame(&mut self) {
        let header: [u8; HEADER] = match self.buf[..HEADER].try_into() {
            Ok(h) => h,
            Err(_) => return self.fail("short frame header".into()),
        };
        self.buf.clear();
        if &header[..3] != MAGIC {
            return self.fail(format!("bytes outside a frame (starting {:?})", String::from_utf8_lossy(&header)));
        }
        let kind = header[3];
        let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let limit = match kind {
            b'O' => usize::MAX,
            b'P' => self.max_position,
            b'R' => MAX_SUMMARY,
            b'Y' => 0,
            other => return self.fail(format!("unknown frame kind {other:#04x}")),
        };
        if kind == b'Y' && (self.ready || self.position.is_some()) {
            return self.fail("a READY frame out of place".into());
        }
        if self.summary.is_some() {
            return self.fail("data after the summary frame".into());
        }
        if kind == b'P' && self.position.is_some() {
            return self.fail("a second position frame".into());
        }
        if len > limit {
            return self.fail(format!("a {len}-byte frame of kind {} exceeds its {limit}-byte limit", kind as char));
        }
        if kind != b'O' {
            // Grow with the bytes that actually arrive, not with the header's
            // claim: a header alone must not make the host reserve up to the
            // limit (256 MiB for a position) for a frame that never comes.
            self.buf.reserve(len.min(RESERVE_AHEAD));
        }
        if len == 0 {
            self.end_frame(kind);
        } else {
            self.current = Some((kind, len));
        }
    }

    fn end_frame(&mut self, kind: u8) {
        self.current = None;
        match kind {
            b'P' => self.position = Some(std::mem::take(&mut self.buf)),
            b'R' => self.summary = Some(std::mem::take(&mut self.buf)),
            b'Y' => self.ready = true,
            _ => {}
        }
    }

    fn fail(&mut self, why: String) {
        self.buf = Vec::new();
        self.current = None;
        if self.corrupt.is_none() {
            self.corrupt = Some(why);
        }
    }

    /// The stream ended: a frame cut short is corruption too.
    pub fn finish(&mut self) {
        if self.corrupt.is_none() && (self.current.is_some() || !self.buf.is_empty()) {
            self.fail("the output ended in the middle of a frame".into());
        }
    }
}

#[cfg(test)]
pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = MAGIC.to_vec();
    v.push(kind);
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = frame(b'O', b"hello ");
        s.extend(frame(b'O', b"world\n"));
        s.extend(frame(b'P', b"PAR1...PAR1"));
        s.extend(frame(b'R', br#"{"status":"ok"}"#));
        s
    }

    #[test]
    fn decodes_a_whole_stream() {
        let mut d = Decoder::new(1024, 1024);
        d.feed(&stream());
        d.finish();
        assert_eq!(d.corrupt, None);
        assert_eq!(d.stdout.text(), "hello world\n");
        assert_eq!(d.position.as_deref(), Some(&b"PAR1...PAR1"[..]));
        assert_eq!(d.summary.as_deref(), Some(&br#"{"status":"ok"}"#[..]));
    }

    #[test]
    fn decodes_the_same_one_byte_at_a_time() {
        let mut d = Decoder::new(1024, 1024);
        for b in stream() {
            d.feed(&[b]);
        }
        d.finish();
        assert_eq!(d.corrupt, None);
        assert_eq!(d.stdout.text(), "hello world\n");
        assert!(d.summary.is_some());
    }

    #[test]
    fn raw_bytes_outside_frames_are_corruption() {
        let mut d = Decoder::new(1024, 1024);
        d.feed(b"{\"sharpe_ratio\": 99}\n");
        d.finish();
        assert!(d.corrupt.is_some());
        assert!(d.summary.is_none());
    }

    #[test]
    fn oversized_position_is_refused_without_buffering_it() {
        let mut d = Decoder::new(1024, 10);
        d.feed(&frame(b'P', &[0u8; 100]));
        assert!(d.corrupt.as_deref().unwrap_or("").contains("exceeds"));
        assert!(d.position.is_none());
    }

    #[test]
    fn frames_after_the_summary_are_corruption() {
        let mut s = stream();
        s.extend(frame(b'R', br#"{"status":"ok","forged":true}"#));
        let mut d = Decoder::new(1024, 1024);
        d.feed(&s);
        assert!(d.corrupt.as_deref().unwrap_or("").contains("after the summary"));
    }

    #[test]
    fn truncated_stream_is_corruption() {
        let s = stream();
        let mut d = Decoder::new(1024, 1024);
        d.feed(&s[..s.len() - 3]);
        d.finish();
        assert!(d.corrupt.as_deref().unwrap_or("").contains("middle of a frame"));
    }

    #[test]
    fn stdout_is_capped_to_its_tail() {
        let mut d = Decoder::new(4, 1024);
        d.feed(&frame(b'O', b"abcdefgh"));
        d.finish();
        assert_eq!(d.stdout.text(), "efgh");
        assert!(d.stdout.truncated());
        assert_eq!(d.stdout.total(), 8);
    }

    #[test]
    fn a_header_alone_does_not_reserve_its_claimed_length() {
        let mut d = Decoder::new(1024, 256 << 20);
        let mut header = MAGIC.to_vec();
        header.push(b'P');
        header.extend_from_slice(&(200u32 << 20).to_be_bytes());
        d.feed(&header);
        d.feed(b"PAR1");
        assert!(d.buf.capacity() <= RESERVE_AHEAD, "{}", d.buf.capacity());
        assert_eq!(d.corrupt, None);
        d.finish();
        assert!(d.corrupt.as_deref().unwrap_or("").contains("middle of a frame"));
    }

    #[test]
    fn any_chunking_decodes_the_same() {
        let s = stream();
        let mut whole = Decoder::new(1024, 1024);
        whole.feed(&s);
        whole.finish();
        for split in 1..s.len() {
            let mut d = Decoder::new(1024, 1024);
            for c in s.chunks(split) {
                d.feed(c);
            }
            d.finish();
            assert_eq!((&d.position, &d.summary, &d.corrupt), (&whole.position, &whole.summary, &whole.corrupt));
            assert_eq!(d.stdout.text(), whole.stdout.text());
        }
    }

    #[test]
    fn unknown_kind_is_corruption() {
        let mut d = Decoder::new(1024, 1024);
        d.feed(&frame(b'Z', b"x"));
        assert!(d.corrupt.is_some());
    }

    #[test]
    fn ready_comes_once_and_empty() {
        let mut d = Decoder::new(1024, 1024);
        d.feed(&frame(b'Y', b""));
        assert!(d.ready);
        assert_eq!(d.corrupt, None);
        d.feed(&frame(b'Y', b""));
        assert!(d.corrupt.is_some(), "a second READY is forged");
        let mut d = Decoder::new(1024, 1024);
        d.feed(&frame(b'Y', b"x"));
        assert!(d.corrupt.is_some() && !d.ready, "READY carries nothing");
    }
}
