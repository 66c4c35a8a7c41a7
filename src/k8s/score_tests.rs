//! `k8s score` on hostile and honest work directories.

use super::*;
use crate::position::testutil::{write, Col};
use crate::report::Status;
use tempfile::TempDir;

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = b"FSB".to_vec();
    v.push(kind);
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn market() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/market.parquet")
}

const SOURCE: &str = "def strategy(data):\n    return None\n";

/// The ConfigMap's files as a render writes them.
fn config_dir(rs: &ScoreSettings) -> TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join(SETTINGS_FILE), rs.to_json()).expect("write");
    let line = serde_json::json!({ "source": SOURCE, "filename": "s.py" }).to_string() + "\n";
    std::fs::write(d.path().join("strategy.json"), line).expect("write");
    d
}

fn render_settings() -> ScoreSettings {
    let st = crate::k8s::Strategy { filename: "s.py".into(), source: SOURCE.into() };
    ScoreSettings::of(&Settings { fee_ratio: 0.002, min_window_days: 30, ..Settings::default() }, &[st])
}

/// What the strategy container left: `frames`, and `exit-code` when given.
fn work(frames: &[u8], exit: Option<&[u8]>) -> TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("frames"), frames).expect("write");
    if let Some(e) = exit {
        std::fs::write(d.path().join("exit-code"), e).expect("write");
    }
    d
}

fn score_in(work: &Path, cfg: &Path) -> Result<RunResult, Error> {
    let data = market();
    score(&Inputs { work, config_dir: cfg, data: &data, index: None })
}

fn scored(frames: &[u8], exit: Option<&[u8]>) -> RunResult {
    let (w, c) = (work(frames, exit), config_dir(&render_settings()));
    score_in(w.path(), c.path()).expect("scored")
}

/// A position holding the market's first symbol over its first 300 days.
fn ok_frames() -> Vec<u8> {
    let m = crate::score::load(&market()).expect("market");
    let dates = &m.dates[..300];
    let pos = write(dates, &[Col::B(&m.symbols[0], vec![true; dates.len()])]);
    let mut s = frame(b'O', b"hello from the strategy\n");
    s.extend(frame(b'P', &pos));
    s.extend(frame(b'R', br#"{"protocol":1,"status":"ok"}"#));
    s
}

#[test]
fn a_valid_position_and_summary_is_ok_and_scored_with_the_rendered_settings() {
    let r = scored(&ok_frames(), Some(b"0\n"));
    assert_eq!(r.status, Status::Ok, "{:?}", r.error);
    assert!(r.metrics.is_some(), "scored on the host");
    assert_eq!(r.backtest.as_ref().map(|b| b.fee_ratio), Some(0.002), "the render's fee, not the default");
    assert_eq!(r.position.as_ref().map(|p| p.rows), Some(300));
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(r.provenance.config_sha256, render_settings().config_sha256);
    assert_eq!(r.strategy.sha256, crate::host::hex_sha256(SOURCE.as_bytes()));
    assert_eq!(r.provenance.data_sha256.as_deref().map(str::len), Some(64));
}

#[test]
fn no_frames_is_what_decide_says_of_the_exit_code() {
    assert_eq!(scored(b"", Some(b"0\n")).status, Status::InvalidOutput);
    let r = scored(b"", Some(b"137\n"));
    assert_eq!(r.status, Status::StrategyError);
    let msg = r.error.expect("error").message;
    assert!(msg.contains("SIGKILL") && msg.contains("137"), "{msg}");
    // Nothing at all: an unknown exit, never a success.
    let (w, c) = (tempfile::tempdir().expect("tempdir"), config_dir(&render_settings()));
    let r = score_in(w.path(), c.path()).expect("scored");
    assert_eq!((r.status, r.exit_code), (Status::StrategyError, None));
}

#[test]
fn forged_or_corrupt_frames_are_invalid_output() {
    let r = scored(b"not a frame at all, just bytes", Some(b"0\n"));
    assert_eq!(r.status, Status::InvalidOutput);
    let mut forged = ok_frames();
    forged.truncate(forged.len() - 3);
    assert_eq!(scored(&forged, Some(b"0\n")).status, Status::InvalidOutput);
    let mut bad_pos = frame(b'P', b"PAR1 garbage");
    bad_pos.extend(frame(b'R', br#"{"protocol":1,"status":"ok"}"#));
    assert_eq!(scored(&bad_pos, Some(b"0\n")).status, Status::InvalidOutput);
    // A success summary beside a nonzero exit code is not believed.
    assert_eq!(scored(&ok_frames(), Some(b"1\n")).status, Status::InvalidOutput);
}

#[test]
fn a_huge_frames_file_is_refused_without_reading_it() {
    let w = tempfile::tempdir().expect("tempdir");
    std::fs::File::create(w.path().join("frames")).expect("create").set_len(4 << 30).expect("sparse 4 GiB");
    let c = config_dir(&render_settings());
    let start = std::time::Instant::now();
    let r = score_in(w.path(), c.path()).expect("scored");
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
    assert_eq!(r.status, Status::InvalidOutput);
    assert!(r.error.expect("error").message.contains("larger than"));
}

#[test]
fn a_fifo_or_directory_in_place_of_the_frames_is_refused_at_once() {
    use std::os::unix::ffi::OsStrExt;
    let w = tempfile::tempdir().expect("tempdir");
    let fifo = w.path().join("frames");
    let p = std::ffi::CString::new(fifo.as_os_str().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
    assert_eq!(unsafe { libc::mkfifo(p.as_ptr(), 0o600) }, 0, "mkfifo");
    std::fs::create_dir(w.path().join("exit-code")).expect("dir");
    let c = config_dir(&render_settings());
    let r = score_in(w.path(), c.path()).expect("scored");
    assert_eq!((r.status, r.exit_code), (Status::InvalidOutput, None));
}

#[test]
fn a_garbage_exit_code_is_unknown_never_a_crash() {
    for junk in [&b"\xff\xfe\x00"[..], b"", b"-", b"99999999999999999999", b"0 0", &[b'7'; 4096][..]] {
        let w = work(b"", Some(junk));
        assert_eq!(exit_code(&w.path().join("exit-code")), None, "{junk:?}");
    }
    assert_eq!(scored(b"", Some(b"\xff\xfe")).exit_code, None);
    assert_eq!(exit_code(&work(b"", Some(b" 3\n")).path().join("exit-code")), Some(3));
}

#[test]
fn settings_missing_invalid_or_not_matching_the_strategy_are_config_errors() {
    let w = work(&ok_frames(), Some(b"0\n"));
    let empty = tempfile::tempdir().expect("tempdir");
    let e = score_in(w.path(), empty.path()).expect_err("no settings");
    assert_eq!(e.exit_code(), crate::error::code::USAGE);
    let c = config_dir(&ScoreSettings { fee_ratio: f64::NAN, ..render_settings() });
    assert_eq!(score_in(w.path(), c.path()).expect_err("bad fee").exit_code(), crate::error::code::USAGE);
    let c = config_dir(&render_settings());
    std::fs::write(c.path().join(SETTINGS_FILE), "{\"finsandbox\": 1}").expect("write");
    assert_eq!(score_in(w.path(), c.path()).expect_err("garbage").exit_code(), crate::error::code::USAGE);
    let c = config_dir(&ScoreSettings { strategy_sha256: vec!["0".repeat(64)], ..render_settings() });
    let e = score_in(w.path(), c.path()).expect_err("another strategy");
    assert!(e.to_string().contains("sha256"), "{e}");
    let c = config_dir(&render_settings());
    let data = market();
    let e = score(&Inputs { work: w.path(), config_dir: c.path(), data: &data, index: Some(4) });
    assert_eq!(e.expect_err("no strategy-4.json").exit_code(), crate::error::code::USAGE);
}

#[test]
fn a_batch_index_reads_its_own_strategy_line_and_sha256() {
    let other = "def strategy(data):\n    return 1\n";
    let sts: Vec<crate::k8s::Strategy> = [SOURCE, other]
        .iter()
        .map(|s| crate::k8s::Strategy { filename: "b.py".into(), source: s.to_string() })
        .collect();
    let c = config_dir(&ScoreSettings::of(&Settings::default(), &sts));
    for (i, s) in [SOURCE, other].iter().enumerate() {
        let line = serde_json::json!({ "source": s, "filename": "b.py" }).to_string();
        std::fs::write(c.path().join(format!("strategy-{i}.json")), line).expect("write");
    }
    let (w, data) = (work(&ok_frames(), Some(b"0")), market());
    let r = score(&Inputs { work: w.path(), config_dir: c.path(), data: &data, index: Some(1) }).expect("index 1");
    assert_eq!(r.strategy.sha256, crate::host::hex_sha256(other.as_bytes()));
    assert_eq!(r.status, Status::Ok);
    // Index 1's line in index 0's place does not match the recorded sha256.
    std::fs::copy(c.path().join("strategy-1.json"), c.path().join("strategy-0.json")).expect("copy");
    let e = score(&Inputs { work: w.path(), config_dir: c.path(), data: &data, index: Some(0) });
    assert_eq!(e.expect_err("swapped").exit_code(), crate::error::code::USAGE);
}

#[test]
fn the_settings_round_trip_to_what_scoring_uses() {
    let s = Settings {
        fee_ratio: 0.003,
        tax_ratio: 0.001,
        min_window_days: 7,
        output_limit_bytes: 99,
        ..Settings::default()
    };
    let rs = ScoreSettings::of(&s, &[]);
    let back: ScoreSettings = serde_json::from_str(&rs.to_json()).expect("json");
    assert_eq!(back, rs);
    let t = back.settings();
    assert_eq!((t.fee_ratio, t.tax_ratio, t.min_window_days, t.output_limit_bytes), (0.003, 0.001, 7, 99));
    assert_eq!((t.memory_bytes, t.cpus, t.timeout_seconds), (s.memory_bytes, s.cpus, s.timeout_seconds));
}

#[test]
fn the_termination_message_fits_in_4096_bytes() {
    let mut r = scored(&ok_frames(), Some(b"0\n"));
    assert!(termination_message(&r).len() <= TERMINATION_LOG_BYTES);
    r.error = Some(crate::harness::SummaryError {
        kind: "ValueError".into(),
        message: "é".repeat(50_000),
        traceback: "x".repeat(50_000),
    });
    let m = termination_message(&r);
    assert!(m.len() <= TERMINATION_LOG_BYTES, "{}", m.len());
    let v: Value = serde_json::from_str(&m).expect("JSON");
    assert_eq!((&v["status"], &v["error"]["kind"]), (&Value::from("ok"), &Value::from("ValueError")));
    assert!(v["metrics"].is_object(), "metrics kept when they fit");
    let f = tempfile::NamedTempFile::new().expect("tmp");
    write_termination_log(f.path(), &r);
    assert_eq!(std::fs::read_to_string(f.path()).expect("read"), m);
    write_termination_log(Path::new("/nonexistent/termination-log"), &r);
}
