//! The harness frame decoder on arbitrary output, fed in arbitrary chunk
//! sizes (the first byte picks the size): it must never panic, and never
//! keep more than its limits.
#![no_main]

use finsandbox::harness::Decoder;
use libfuzzer_sys::fuzz_target;

const STDOUT_LIMIT: usize = 64;
const MAX_POSITION: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&split, stream)) = data.split_first() else { return };
    let mut d = Decoder::new(STDOUT_LIMIT, MAX_POSITION);
    for chunk in stream.chunks(usize::from(split).max(1)) {
        d.feed(chunk);
    }
    d.finish();
    assert!(d.position.as_ref().is_none_or(|p| p.len() <= MAX_POSITION));
    assert!(d.summary.as_ref().is_none_or(|s| s.len() <= 1 << 20));
    assert!(d.stdout.text().len() <= STDOUT_LIMIT * 4);
    // The same stream in one piece decodes the same.
    let mut whole = Decoder::new(STDOUT_LIMIT, MAX_POSITION);
    whole.feed(stream);
    whole.finish();
    assert_eq!(whole.position, d.position);
    assert_eq!(whole.summary, d.summary);
    assert_eq!(whole.corrupt.is_some(), d.corrupt.is_some());
});
