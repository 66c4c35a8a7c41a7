//! The position decoder on arbitrary bytes: it must return, never panic,
//! and never allocate beyond its bounds (libFuzzer's RSS limit catches
//! that). Small bounds keep each run fast; the checks are the same code
//! whatever the numbers.
#![no_main]

use finsandbox::position::{Bounds, Position};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bounds = Bounds { max_rows: 1 << 12, max_columns: 1 << 8, max_cells: 1 << 16 };
    if let Ok(p) = Position::decode_unguarded(data.to_vec(), &bounds) {
        assert!(p.dates.len() <= bounds.max_rows);
        assert!(p.symbols.len() <= bounds.max_columns);
        assert_eq!(p.values.len(), p.dates.len() * p.symbols.len());
        assert!(p.values.iter().all(|v| !v.is_infinite()));
        assert!(p.dates.windows(2).all(|w| w[0] < w[1]));
        let _ = p.summary();
    }
});
