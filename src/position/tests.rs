use super::testutil::{write, Col};
use super::*;

#[test]
fn decodes_floats_with_nulls_as_nan() {
    let bytes = write(&[19000, 19001], &[Col::F("AAA", vec![Some(0.5), None]), Col::F("BBB", vec![None, Some(1.0)])]);
    let p = Position::decode(bytes).expect("valid");
    assert_eq!(p.symbols, ["AAA", "BBB"]);
    assert_eq!(p.dates, [19000, 19001]);
    assert_eq!(p.values[0], 0.5);
    assert!(p.values[1].is_nan());
    assert!(p.values[2].is_nan());
    assert_eq!(p.values[3], 1.0);
    assert_eq!(p.dtype, Dtype::Float);
}

#[test]
fn decodes_booleans() {
    let bytes = write(&[19000, 19001, 19002], &[Col::B("A", vec![true, false, true])]);
    let p = Position::decode(bytes).expect("valid");
    assert_eq!(p.values, [1.0, 0.0, 1.0]);
    assert_eq!(p.dtype, Dtype::Bool);
    let s = p.summary();
    assert_eq!((s.rows, s.columns), (3, 1));
    assert_eq!(s.start.as_deref(), Some("2022-01-08"));
}

#[test]
fn hash_depends_on_content() {
    let a = Position::decode(write(&[1, 2], &[Col::F("A", vec![Some(1.0), Some(0.0)])])).expect("a");
    let b = Position::decode(write(&[1, 2], &[Col::F("A", vec![Some(1.0), Some(0.5)])])).expect("b");
    let c = Position::decode(write(&[1, 2], &[Col::F("B", vec![Some(1.0), Some(0.0)])])).expect("c");
    assert_ne!(a.summary().sha256, b.summary().sha256);
    assert_ne!(a.summary().sha256, c.summary().sha256);
    assert_eq!(a.summary().sha256, a.clone().summary().sha256);
    assert_eq!(a.summary().sha256.len(), 64);
}

#[test]
fn unsorted_dates_are_rejected() {
    let err = Position::decode(write(&[5, 3], &[Col::F("A", vec![Some(1.0), Some(0.0)])])).expect_err("unsorted");
    assert!(err.contains("strictly increasing"), "{err}");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(Position::decode(b"PAR1garbagePAR1".to_vec()).is_err());
    assert!(Position::decode(Vec::new()).is_err());
    let good = write(&[1, 2], &[Col::F("A", vec![Some(1.0), Some(0.0)])]);
    for cut in 0..good.len() {
        let _ = Position::decode(good[..cut].to_vec());
    }
    // flipping bytes must not panic either
    for i in (0..good.len()).step_by(7) {
        let mut g = good.clone();
        g[i] ^= 0x5a;
        let _ = Position::decode(g);
    }
}

#[test]
fn iso_dates() {
    assert_eq!(iso_date(0), "1970-01-01");
    assert_eq!(iso_date(19_723), "2024-01-01");
    assert_eq!(iso_date(-1), "1969-12-31");
    assert_eq!(iso_date(11_016), "2000-02-29");
}
