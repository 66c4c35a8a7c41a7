//! The config file parser (YAML text into the file layer) on arbitrary
//! text: an error is fine, a panic or a hang is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = finsandbox::config::parse_file(std::path::Path::new("fuzz.yaml"), text);
});
