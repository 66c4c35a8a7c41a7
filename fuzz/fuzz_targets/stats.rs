//! The `docker stats` / `podman stats` line parser (the engine's) on
//! arbitrary text.
#![no_main]

use finsandbox::engine::stats;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    for raw in stats::parse_line(&line) {
        let s = stats::convert(&raw);
        assert!(s.cpu_percent.is_none_or(f64::is_finite));
        assert!(s.memory_percent.is_none_or(f64::is_finite));
    }
    let _ = stats::parse_size(&line);
    let _ = stats::parse_percent(&line);
    let _ = stats::parse_count(&line);
});
