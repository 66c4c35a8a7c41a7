//! Hostile inputs on the host side (issue 10, findings 2, 3 and 6), through
//! the real binary and, where the input comes out of the sandbox, the real
//! engine.
//!
//! - Positions a strategy controls byte for byte: the strategy replaces
//!   pyarrow's `write_table`, so the harness sends a file built here with
//!   `finsandbox::position::craft` (a footer claiming 2^62 or 2^40 rows, a
//!   dictionary bomb, a truncated file). Every one must end as
//!   `invalid_output` (exit 15) with its JSON, never a panic or an abort.
//! - Positions whose index is time-zone aware or intraday must score on each
//!   timestamp's own calendar date: the same position hash as the naive one.
//! - Weights that are infinite, overflow, or complex are `invalid_output`.
//! - Host-side paths naming `/dev/zero`, a FIFO or a directory are refused at
//!   once (exit 4 for the strategy, 2 for configuration), with JSON.
//! - The fuzz targets' regression corpus replays here on stable.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use finsandbox::position::craft::{self, Column, File, Page};
use serde_json::Value;

use crate::support::{bin, exec, market, root};

/// A strategy whose position file is exactly `bytes`: it swaps pyarrow's
/// writer for one that writes them. Runs without screening (the point is
/// the host's decoder, not the screen), using nothing but attribute
/// assignment and `bytes.fromhex`.
fn strategy_sending(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "import pyarrow.parquet as pq\n\
         PAYLOAD = bytes.fromhex('{hex}')\n\
         def write(table, where, **kw):\n    where.write(PAYLOAD)\n\
         pq.write_table = write\n\
         def strategy(data):\n    return data.get('close') > 0\n"
    )
}

fn assert_invalid_output(bytes: &[u8], expect: &[&str]) {
    let run = exec(&strategy_sending(bytes), &["--skip-screening"]);
    assert_eq!(run.status(), "invalid_output", "{}", run.describe());
    assert_eq!(run.code(), 15, "{}", run.describe());
    let msg = run.json["error"]["message"].as_str().unwrap_or("");
    assert!(expect.iter().any(|e| msg.contains(e)), "message {msg:?} mentions none of {expect:?}");
}

fn market_dates_and_symbols() -> (Vec<i32>, Vec<String>) {
    let m = finsandbox::score::load(&market()).expect("example market");
    (m.dates.clone(), m.symbols.clone())
}

/// A file that is valid but for the fields each test changes: the market's
/// dates and one column.
fn plausible() -> File {
    let (dates, symbols) = market_dates_and_symbols();
    let ones = vec![1.0; dates.len()];
    File {
        num_rows: dates.len() as i64,
        columns: vec![Column::dates(&dates), Column::doubles(&symbols[0], &ones)],
        group_rows: None,
    }
}

#[test]
fn a_position_claiming_2_pow_62_rows_is_invalid_output_not_a_panic() {
    let mut f = plausible();
    f.num_rows = 1 << 62;
    assert_invalid_output(&craft::write(&f), &["rows"]);
}

#[test]
fn a_position_claiming_2_pow_40_rows_is_invalid_output_not_an_abort() {
    let mut f = plausible();
    f.num_rows = 1 << 40;
    f.group_rows = Some(1 << 40);
    assert_invalid_output(&craft::write(&f), &["rows"]);
}

#[test]
fn a_dictionary_bomb_position_is_invalid_output() {
    // Every market date x every market symbol, within any bound the market
    // sets, so only the encoding check can stop it: each column is one
    // dictionary value and one RLE run.
    let (dates, symbols) = market_dates_and_symbols();
    let rows = dates.len() as i32;
    let mut columns = vec![Column::dates(&dates)];
    for s in &symbols {
        let mut c = Column::new(
            s,
            craft::DOUBLE,
            vec![
                Page::dictionary(1, craft::plain_f64(&[1.0])),
                Page::data(rows, craft::RLE_DICTIONARY, craft::dictionary_indices(rows as u64)),
            ],
        );
        c.encodings = vec![craft::PLAIN, craft::RLE, craft::RLE_DICTIONARY];
        columns.push(c);
    }
    let bytes = craft::write(&File { columns, num_rows: i64::from(rows), group_rows: None });
    assert_invalid_output(&bytes, &["dictionary"]);
}

#[test]
fn truncated_and_mistyped_positions_are_invalid_output() {
    let good = craft::write(&plausible());
    assert_invalid_output(&good[..good.len() - 9], &["unreadable position"]);
    let mut f = plausible();
    f.columns[1].physical = craft::INT64;
    assert_invalid_output(&craft::write(&f), &["INT64"]);
}

/// `(label, index expression)`: the same position under indexes that all
/// name the same calendar days.
const SAME_DAYS: &[(&str, &str)] = &[
    ("naive", "p.index"),
    ("east of UTC, local midnight", "p.index.tz_localize('Asia/Taipei')"),
    ("east of UTC, intraday", "(p.index + pd.Timedelta(hours=7, minutes=30)).tz_localize('Asia/Tokyo')"),
    ("west of UTC, late evening", "(p.index + pd.Timedelta(hours=23)).tz_localize('America/New_York')"),
    ("naive, intraday", "p.index + pd.Timedelta(hours=15, minutes=59)"),
];

#[test]
fn time_zone_aware_and_intraday_indexes_keep_each_timestamps_own_date() {
    let (tx, rx) = mpsc::channel();
    for (label, index) in SAME_DAYS {
        let tx = tx.clone();
        let source = format!(
            "import pandas as pd\n\ndef strategy(data):\n    p = data.get('close') > data.get('close').shift(1)\n    \
             p.index = {index}\n    return p\n"
        );
        std::thread::spawn(move || {
            let run = exec(&source, &[]);
            let _ = tx.send((*label, run.status().to_string(), run.json.clone(), run.describe()));
        });
    }
    drop(tx);
    let mut runs: Vec<(&str, String, Value, String)> = rx.iter().collect();
    assert_eq!(runs.len(), SAME_DAYS.len(), "a run thread panicked");
    runs.sort_by_key(|r| SAME_DAYS.iter().position(|s| s.0 == r.0));
    let (_, status, base, describe) = &runs[0];
    assert_eq!(status, "ok", "{describe}");
    let (dates, _) = market_dates_and_symbols();
    assert_eq!(base["position"]["start"].as_str(), Some(finsandbox::position::iso_date(dates[0]).as_str()));
    for (label, status, v, describe) in &runs[1..] {
        assert_eq!(status, "ok", "{label}: {describe}");
        assert_eq!(v["position"]["start"], base["position"]["start"], "{label}");
        assert_eq!(v["position"]["end"], base["position"]["end"], "{label}");
        // Same dates and values: the same hash, so the same scores.
        assert_eq!(v["position"]["sha256"], base["position"]["sha256"], "{label}: the dates moved");
        assert_eq!(v["metrics"], base["metrics"], "{label}");
    }
}

#[test]
fn infinite_overflowing_and_complex_weights_are_invalid_output() {
    let cases = [
        ("infinite", "(data.get('close') > 0) * float('inf')", "finite"),
        ("overflow", "(data.get('close') > 0).astype(float) * 1e308", "float"),
        ("complex", "(data.get('close') > 0).astype(complex)", "complex"),
        ("object", "(data.get('close') > 0).astype(object)", "object"),
    ];
    for (label, expr, want) in cases {
        let run = exec(&format!("def strategy(data):\n    return {expr}\n"), &[]);
        assert_eq!(run.status(), "invalid_output", "{label}: {}", run.describe());
        let msg = run.json["error"]["message"].as_str().unwrap_or("");
        assert!(msg.contains(want), "{label}: {msg:?}");
    }
}

/// Run the binary with `args`, bounded: a CLI that blocks (a FIFO) or reads
/// without end (`/dev/zero`, capped by an address-space limit) fails the
/// test instead of hanging it or eating the machine.
fn run_bounded(args: Vec<std::ffi::OsString>) -> (Option<i32>, Value, String) {
    use std::os::unix::process::CommandExt;
    let mut c: Command = bin();
    c.args(&args).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: 8 << 30, rlim_max: 8 << 30 };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let child = c.spawn().expect("spawn finsandbox");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: our own child, still unreaped (the waiting thread holds it).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("finsandbox {args:?} did not return: it blocked on its input");
        }
    };
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
    (out.status.code(), json, format!("{args:?}: {:?}\n{text}\n{}", out.status, String::from_utf8_lossy(&out.stderr)))
}

fn fifo_in(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let p = dir.join(name);
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    p
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

#[test]
fn a_strategy_path_naming_a_device_fifo_or_directory_exits_4_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = fifo_in(dir.path(), "strategy.py");
    for path in [PathBuf::from("/dev/zero"), fifo, dir.path().to_path_buf()] {
        let (code, json, describe) = run_bounded(os(&[&"--json", &"exec", &path, &"--data", &market()]));
        assert_eq!(code, Some(4), "{describe}");
        assert_eq!(json["status"], "error", "{describe}");
        let (code, _, describe) = run_bounded(os(&[&"--json", &"validate", &path]));
        assert_eq!(code, Some(4), "{describe}");
    }
}

#[test]
fn a_config_or_seccomp_profile_naming_a_device_or_fifo_exits_2_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let strategy = crate::support::strategy("def strategy(data):\n    return data.get('close') > 0\n");
    for path in [PathBuf::from("/dev/zero"), fifo_in(dir.path(), "config.yaml")] {
        let (code, json, describe) =
            run_bounded(os(&[&"--json", &"exec", &strategy.path, &"--data", &market(), &"--config", &path]));
        assert_eq!(code, Some(2), "{describe}");
        assert_eq!(json["status"], "error", "{describe}");
    }
    for path in [PathBuf::from("/dev/zero"), fifo_in(dir.path(), "profile.json")] {
        let (code, json, describe) =
            run_bounded(os(&[&"--json", &"exec", &strategy.path, &"--data", &market(), &"--seccomp-profile", &path]));
        assert_eq!(code, Some(2), "{describe}");
        assert_eq!(json["status"], "error", "{describe}");
    }
}

#[test]
fn a_data_directory_holding_a_fifo_table_exits_4_at_once() {
    // The table files of a data directory are host-side paths too.
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::copy(market(), dir.path().join("close.parquet")).expect("copy");
    fifo_in(dir.path(), "price.parquet");
    let strategy = crate::support::strategy("def strategy(data):\n    return data.get('close') > 0\n");
    let (code, json, describe) = run_bounded(os(&[&"--json", &"exec", &strategy.path, &"--data", &dir.path()]));
    assert_eq!(code, Some(4), "{describe}");
    assert_eq!(json["status"], "error", "{describe}");
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root().join("fuzz/corpus").join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let b = std::fs::read(&p).expect("read corpus file");
            (p, b)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

#[test]
fn the_position_fuzz_corpus_replays_without_panics() {
    for (path, bytes) in corpus("position") {
        // Unguarded, as the fuzz target calls it: a panic fails this test.
        let r = finsandbox::position::Position::decode_unguarded(bytes, &finsandbox::position::Bounds::default());
        if let Ok(p) = r {
            assert_eq!(p.values.len(), p.dates.len() * p.symbols.len(), "{}", path.display());
        }
    }
}

#[test]
fn the_frames_fuzz_corpus_replays_without_panics() {
    for (path, bytes) in corpus("frames") {
        for split in [1usize, 7, 4096] {
            let mut d = finsandbox::harness::Decoder::new(1024, 1 << 16);
            for chunk in bytes.chunks(split) {
                d.feed(chunk);
            }
            d.finish();
            if d.corrupt.is_none() {
                assert!(d.position.as_ref().is_none_or(|p| p.len() <= 1 << 16), "{}", path.display());
            }
        }
    }
}

#[test]
fn the_config_fuzz_corpus_replays_without_panics() {
    for (path, bytes) in corpus("config") {
        let text = String::from_utf8_lossy(&bytes);
        let _ = finsandbox::config::parse_file(&path, &text);
    }
}

/// Writes the position seeds of the fuzz corpus (the hostile files above,
/// and valid ones to mutate from). Run by hand when the writer changes:
/// `cargo nextest run --run-ignored only -E 'test(write_position_seeds)'`.
#[test]
#[ignore = "regenerates fuzz/corpus/position seeds"]
fn write_position_seeds() {
    let dir = root().join("fuzz/corpus/position");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let small = || File {
        columns: vec![Column::dates(&[19000, 19001, 19002]), Column::doubles("AAA", &[0.5, f64::NAN, 1.0])],
        num_rows: 3,
        group_rows: None,
    };
    let mut seeds: Vec<(&str, Vec<u8>)> = vec![("valid-crafted", craft::write(&small()))];
    let mut f = small();
    f.num_rows = 1 << 62;
    seeds.push(("rows-2-pow-62", craft::write(&f)));
    let mut f = small();
    f.num_rows = 1 << 40;
    f.group_rows = Some(1 << 40);
    seeds.push(("rows-2-pow-40", craft::write(&f)));
    let mut f = small();
    f.columns[1].pages = vec![
        Page::dictionary(1, craft::plain_f64(&[1.0])),
        Page::data(3, craft::RLE_DICTIONARY, craft::dictionary_indices(3)),
    ];
    seeds.push(("dictionary", craft::write(&f)));
    f.columns[1].hide_dictionary = true;
    seeds.push(("dictionary-hidden", craft::write(&f)));
    let mut f = small();
    f.columns[1].codec = craft::SNAPPY;
    f.columns[1].pages[0].uncompressed = Some(i32::MAX);
    seeds.push(("snappy-2gb-claim", craft::write(&f)));
    let mut f = small();
    f.columns[1].physical = craft::INT64;
    seeds.push(("wrong-type", craft::write(&f)));
    let mut f = small();
    f.columns[1].optional = true;
    let mut body = 2u32.to_le_bytes().to_vec();
    body.extend(craft::rle_run(3, 1, 1));
    body.extend(craft::plain_f64(&[0.25, 0.5, 0.75]));
    f.columns[1].pages = vec![Page::data(3, craft::PLAIN, body)];
    seeds.push(("optional-levels", craft::write(&f)));
    let good = craft::write(&small());
    seeds.push(("truncated", good[..good.len() - 9].to_vec()));
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).expect("write seed");
    }
}
