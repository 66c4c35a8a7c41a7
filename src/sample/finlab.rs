//! The finlab-shaped sample (`data sample --finlab`): finlab's own table
//! and column names, halted days, late listings and delistings, month-end
//! and quarter-end report periods. Apart from the plain sample because it
//! is the one whose shape must follow finlab's, not ours.

use std::path::Path;

use super::*;

/// The tables `write_finlab_sample` writes, each with its finlab columns.
pub const FINLAB_TABLES: &[(&str, &[&str])] = &[
    ("price", &["收盤價", "開盤價", "最高價", "最低價", "成交股數", "成交金額"]),
    ("etl", &["adj_close", "market_value"]),
    ("monthly_revenue", &["當月營收", "去年同月增減(%)", "上月比較增減(%)"]),
    ("fundamental_features", &["ROE稅後", "ROA稅後息前", "每股稅後淨利", "營業利益", "營業利益率"]),
    ("price_earning_ratio", &["殖利率(%)", "本益比", "股價淨值比"]),
    (
        "institutional_investors_trading_summary",
        &["外陸資買賣超股數(不含外資自營商)", "投信買賣超股數", "自營商買賣超股數(自行買賣)"],
    ),
    ("internal_equity_changes", &["董監持有股數占比", "董監質押股數占比"]),
];

/// Write a deterministic dataset shaped like finlab's own (`data sample
/// --finlab`): the tables and Chinese column names of [`FINLAB_TABLES`].
/// Daily tables (`price`, `etl`, `price_earning_ratio`,
/// `institutional_investors_trading_summary`) on business days; halted days
/// have NaN prices (and no volume); about 10% of the symbols list late and
/// about 8% are delisted before the end (no rows outside their life).
/// `monthly_revenue` and `internal_equity_changes` are dated at month ends,
/// `fundamental_features` at quarter ends: the report period, not the day it
/// became public (`deadline()` maps one to the other), as in finlab.
/// `etl:adj_close` falls below the close at a yearly July dividend.
pub fn write_finlab_sample(dir: &Path, spec: &SampleSpec) -> Result<SampleSummary, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut rng = Rng(0xf1b1_ab5a_3b1e_0009);
    let first_year = 2018i64;
    let start = days_from_civil(first_year, 1, 1);
    let end = days_from_civil(first_year + i64::from(spec.years), 1, 1);
    let days: Vec<i32> = (start..end).filter(|d| (d - 4).rem_euclid(7) < 5).collect();
    let symbols: Vec<String> = (0..spec.symbols).map(|i| format!("{}", 1101 + i * 13)).collect();
    let mut b: Vec<Builder> = FINLAB_TABLES.iter().map(|(_, f)| Builder::new(f)).collect();
    for sym in &symbols {
        let mut st = Listing::new(&mut rng, days.len());
        for (i, d) in days.iter().enumerate() {
            if i >= st.listed && i < st.delisted {
                finlab_day(&mut b, &mut rng, &mut st, sym, &days, i, *d);
            }
        }
    }
    let mut price_rows = 0;
    for ((name, _), builder) in FINLAB_TABLES.iter().zip(&b) {
        if *name == "price" {
            price_rows = builder.table.dates.len();
        }
        write_table(&dir.join(format!("{name}.parquet")), &builder.table)?;
    }
    Ok(SampleSummary { symbols: symbols.len(), days: days.len(), price_rows })
}

/// One symbol's life in the finlab sample: its random walk, its listing and
/// delisting, its fundamentals.
struct Listing {
    drift: f64,
    vol: f64,
    close: f64,
    shares_out: f64,
    factor: f64,
    listed: usize,
    delisted: usize,
    eps_level: f64,
    rev_level: f64,
    revenue_by_month: Vec<f64>,
    month_seen: i64,
    halted_run: usize,
}

impl Listing {
    /// Draws in the same order as ever: the sample stays byte-identical.
    fn new(rng: &mut Rng, n: usize) -> Listing {
        let drift = (rng.uniform() - 0.35) * 0.0008;
        let vol = 0.008 + rng.uniform() * 0.025;
        let close = 10.0 + rng.uniform() * 290.0;
        let shares_out = 1e7 * (1.0 + rng.uniform() * 200.0);
        let listed = if rng.uniform() < 0.1 { 20 + (rng.uniform() * n as f64 / 2.0) as usize } else { 0 };
        let delisted = if rng.uniform() < 0.08 { n / 2 + (rng.uniform() * (n / 2 - 1) as f64) as usize } else { n };
        let (listed, delisted) = (listed.min(n.saturating_sub(1)), delisted.max(listed + 1).min(n));
        let eps_level = (rng.uniform() - 0.2) * 3.0;
        let rev_level = 1e8 * (0.5 + rng.uniform() * 20.0);
        Listing {
            drift,
            vol,
            close,
            shares_out,
            factor: 1.0,
            listed,
            delisted,
            eps_level,
            rev_level,
            revenue_by_month: Vec::new(),
            month_seen: 0,
            halted_run: 0,
        }
    }
}

/// One trading day of one symbol: the daily tables, and at a month's last
/// trading day the month (and quarter) tables, dated at the period's end.
fn finlab_day(b: &mut [Builder], rng: &mut Rng, st: &mut Listing, sym: &str, days: &[i32], i: usize, d: i32) {
    let ret = st.drift + st.vol * rng.normal();
    let open = st.close * (1.0 + st.vol * 0.3 * rng.normal());
    st.close *= ret.exp();
    let close = st.close;
    let high = open.max(close) * (1.0 + st.vol * 0.5 * rng.uniform());
    let low = open.min(close) * (1.0 - st.vol * 0.5 * rng.uniform());
    let (y, m, dd) = crate::dates::civil(d);
    if m == 7 && dd <= 7 && (d - 4).rem_euclid(7) == 0 {
        st.factor *= 0.96;
    }
    // Halts come in short runs of one to three days.
    if st.halted_run == 0 && rng.uniform() < 0.003 {
        st.halted_run = 1 + (rng.uniform() * 3.0) as usize;
    }
    let halted = st.halted_run > 0;
    st.halted_run = st.halted_run.saturating_sub(1);
    let volume = (1e5 * (1.0 + 30.0 * rng.uniform())).round() * 1000.0 / 1000.0;
    let c = round2(close);
    let px = |x: f64| if halted { None } else { Some(round2(x)) };
    let (vol_cell, value_cell) = if halted { (None, None) } else { (Some(volume), Some((volume * c).round())) };
    b[0].row(d, sym, &[px(close), px(open), px(high), px(low), vol_cell, value_cell]);
    b[1].row(d, sym, &[px(close * st.factor), px(close * st.shares_out / 1e8)]);
    let eps_ttm = st.eps_level * 4.0;
    let pe = if eps_ttm > 0.0 && !halted { Some(round2(c / eps_ttm)) } else { None };
    let yield_pct = if halted { None } else { Some(round2(100.0 * 0.6 * eps_ttm.max(0.0) / c)) };
    b[4].row(d, sym, &[yield_pct, pe, if halted { None } else { Some(round2(0.8 + c / 60.0)) }]);
    let flow = |s: f64, r: &mut Rng| (s * r.normal() * 1e3).round();
    let foreign = flow(500.0, rng);
    let trust = flow(80.0, rng);
    let dealer = flow(40.0, rng);
    b[5].row(d, sym, &[Some(foreign), Some(trust), Some(dealer)]);
    let month_key = y * 12 + m;
    let last_of_month = days.get(i + 1).is_none_or(|nx| crate::dates::civil(*nx).1 != m);
    if last_of_month && month_key != st.month_seen {
        st.month_seen = month_key;
        finlab_month(b, rng, st, sym, y, m);
    }
}

/// Monthly revenue and insider tables; quarterly fundamentals at quarter ends.
fn finlab_month(b: &mut [Builder], rng: &mut Rng, st: &mut Listing, sym: &str, y: i64, m: i64) {
    st.rev_level *= (0.02 * rng.normal() + 0.004 + if m == 1 { 0.06 * rng.normal() } else { 0.0 }).exp();
    let rev = st.rev_level.round();
    let prev = st.revenue_by_month.last().copied();
    let yoy = st.revenue_by_month.len().checked_sub(12).map(|k| st.revenue_by_month[k]);
    st.revenue_by_month.push(rev);
    let pct = |base: Option<f64>| base.map(|b| round2((rev / b - 1.0) * 100.0));
    b[2].row(month_end(y, m), sym, &[Some(rev), pct(yoy), pct(prev)]);
    b[6].row(
        month_end(y, m),
        sym,
        &[Some(round2(5.0 + 30.0 * rng.uniform())), Some(round2((rng.uniform() - 0.6).max(0.0) * 40.0))],
    );
    if m % 3 == 0 {
        st.eps_level += 0.3 * rng.normal();
        let op_income = (rev * 3.0 * (0.02 + 0.1 * rng.uniform())).round();
        b[3].row(
            month_end(y, m),
            sym,
            &[
                Some(round2(st.eps_level * 4.0 + 2.0 * rng.normal())),
                Some(round2(st.eps_level * 2.0 + rng.normal())),
                Some(round2(st.eps_level)),
                Some(op_income),
                Some(round2(100.0 * op_income / (rev * 3.0))),
            ],
        );
    }
}
