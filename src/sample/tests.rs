use super::*;

#[test]
fn csv_import_round_trips_through_the_scorer() {
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("prices.csv");
    std::fs::write(
        &csv,
        "date,symbol,close,volume\n2024-01-02,AAA,10.5,100\n2024-01-02,\"B,B\",20,\n2024-01-03,AAA,11,200\n",
    )
    .expect("write");
    let out = dir.path().join("prices.parquet");
    assert_eq!(import_csv(&csv, &out).expect("imports"), 3);
    crate::data::inspect(&out).expect("valid long layout");
    let m = crate::score::load(&out).expect("decodes");
    assert_eq!(m.symbols, ["AAA", "B,B"]);
    assert_eq!(m.close[0], 10.5);
}

#[test]
fn csv_errors_name_the_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("o.parquet");
    for (body, want) in [
        ("date,symbol,close\n2024-01-02,A,x\n", "line 2"),
        ("date,symbol,close\n2024-01-02,A,1\n2024-01-02,A,2\n", "duplicate"),
        ("date,close\n2024-01-02,1\n", "no `symbol`"),
        ("date,symbol,close\n02/01/2024,A,1\n", "not a YYYY-MM-DD"),
    ] {
        let csv = dir.path().join("c.csv");
        std::fs::write(&csv, body).expect("write");
        let err = import_csv(&csv, &out).expect_err(body);
        assert!(err.contains(want), "{body}: {err}");
    }
}

#[test]
fn the_sample_is_deterministic_and_valid() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let spec = SampleSpec { symbols: 12, years: 2 };
    let s = write_sample(a.path(), &spec).expect("sample");
    write_sample(b.path(), &spec).expect("sample");
    for f in ["price.parquet", "monthly_revenue.parquet", "fundamental_features.parquet"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).expect("a"),
            std::fs::read(b.path().join(f)).expect("b"),
            "{f} differs"
        );
    }
    let info = crate::data::inspect(a.path()).expect("valid directory");
    assert!(info.fields.contains(&"monthly_revenue:當月營收".to_string()), "{:?}", info.fields);
    let m = crate::score::load(a.path()).expect("prices decode");
    assert_eq!(m.symbols.len(), 12);
    assert_eq!(m.rows(), s.days);
    assert!(m.adj_close.is_some() && m.open.is_some());
}

#[test]
fn the_finlab_sample_is_deterministic_and_shaped_like_finlab() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let spec = SampleSpec { symbols: 30, years: 2 };
    let s = write_finlab_sample(a.path(), &spec).expect("sample");
    write_finlab_sample(b.path(), &spec).expect("sample");
    for (t, cols) in FINLAB_TABLES {
        let f = format!("{t}.parquet");
        assert_eq!(std::fs::read(a.path().join(&f)).expect("a"), std::fs::read(b.path().join(&f)).expect("b"));
        let info = crate::data::inspect(&a.path().join(&f)).expect("valid table");
        assert_eq!(info.fields, cols.iter().map(|c| c.to_string()).collect::<Vec<_>>(), "{t}");
    }
    let info = crate::data::inspect(a.path()).expect("valid directory");
    assert!(info.fields.contains(&"monthly_revenue:去年同月增減(%)".to_string()), "{:?}", info.fields);
    // The host prices with etl:adj_close, trades at price:開盤價 when asked.
    let spec = crate::score::price_spec(a.path()).expect("spec");
    assert_eq!(spec.keys()["close"], "price:收盤價");
    assert_eq!(spec.keys()["adj_close"], "etl:adj_close");
    let m = crate::score::load(a.path()).expect("prices decode");
    assert_eq!((m.symbols.len(), m.rows()), (30, s.days));
    let adj = m.adj_close.as_ref().expect("adj");
    assert!(m.open.is_some());
    // Halted days (NaN among a symbol's prices), late listings, delistings.
    let rows = m.rows();
    let col = |j: usize| &m.close[j * rows..(j + 1) * rows];
    let life = |j: usize| {
        let c = col(j);
        (c.iter().position(|x| x.is_finite()), c.iter().rposition(|x| x.is_finite()))
    };
    assert!((0..30).any(|j| life(j).0.is_some_and(|f| f > 0)), "no late listing");
    assert!((0..30).any(|j| life(j).1.is_some_and(|l| l + 1 < rows)), "no delisting");
    let halted = (0..30).any(|j| {
        let (Some(f), Some(l)) = life(j) else { return false };
        col(j)[f..=l].iter().any(|x| x.is_nan())
    });
    assert!(halted, "no halted day");
    assert!(adj.iter().zip(&m.close).any(|(a, c)| a.is_finite() && (a - c).abs() > 0.01), "adj == close");
    // Month and quarter tables are dated at period ends.
    let rev = crate::score::tables(a.path()).expect("tables");
    assert!(rev.iter().any(|(t, _, _)| t == "fundamental_features"));
}
