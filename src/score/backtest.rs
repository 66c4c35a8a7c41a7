//! The backtest, on the host: a position (what the strategy wants to hold) and
//! the market's prices in, a daily equity curve and trades out. Pure: no I/O.
//! The rules are written down in docs/scoring.md; each has a unit test below.

use super::market::Market;
use crate::position::{Dtype, Position};

/// Calendar periods for `resample` (the family; the anchor is
/// [`Params::anchor`], a list of dates [`Params::rebalance_dates`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resample {
    Week,
    Month,
    Quarter,
    Year,
}

const WEEKDAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

impl Resample {
    /// The family of a pandas alias (see [`Resample::parse_rule`]).
    pub fn parse(s: &str) -> Result<Resample, String> {
        Resample::parse_rule(s).map(|(r, _)| r)
    }

    /// A pandas offset alias → the family and the period's end anchor, as
    /// pandas defines the periods: `W` = `W-SUN` (weeks ending Sunday),
    /// `W-WED` weeks ending Wednesday (anchor 0 = Monday … 6 = Sunday);
    /// `M`, `ME`, `MS`, `BM`, `BME`, `BMS` calendar months; `Q`/`QE`/`BQ`/`BQE`
    /// = `Q-DEC`, `Q-JAN` quarters ending Jan/Apr/Jul/Oct (anchor: the end
    /// month 1..=12); `QS-FEB`/`BQS-FEB` quarters *starting* in Feb, i.e.
    /// ending in Jan; `A`/`Y`/`YE`/`BA`/`BY`/`BYE` = `A-DEC`, `A-JUN` years
    /// ending in June; `AS`/`YS`/`BAS`/`BYS` anchored on the start month.
    /// Anything else (multiples such as `2W`, `D`, `SM`, a bad anchor) is an
    /// error.
    pub fn parse_rule(s: &str) -> Result<(Resample, u8), String> {
        let up = s.trim().to_ascii_uppercase();
        let (head, anchor) = match up.split_once('-') {
            Some((h, a)) => (h, Some(a)),
            None => (up.as_str(), None),
        };
        let bad = || {
            format!(
                "unsupported resample `{s}`: use W, M, Q or Y, a pandas alias (ME, QE, YE, W-WED, Q-JAN, A-JUN, QS-FEB, ...) or a list of dates"
            )
        };
        let month = |a: Option<&str>, default: u8| -> Result<u8, String> {
            match a {
                None => Ok(default),
                Some(a) => MONTHS.iter().position(|m| *m == a).map(|i| i as u8 + 1).ok_or_else(bad),
            }
        };
        // A period anchored on its start month ends the month before.
        let before = |m: u8| if m == 1 { 12 } else { m - 1 };
        match head {
            "W" => match anchor {
                None => Ok((Resample::Week, 6)),
                Some(a) => WEEKDAYS.iter().position(|d| *d == a).map(|i| (Resample::Week, i as u8)).ok_or_else(bad),
            },
            "M" | "ME" | "MS" | "BM" | "BME" | "BMS" if anchor.is_none() => Ok((Resample::Month, 0)),
            "Q" | "QE" | "BQ" | "BQE" => Ok((Resample::Quarter, month(anchor, 12)?)),
            "QS" | "BQS" => Ok((Resample::Quarter, before(month(anchor, 1)?))),
            "Y" | "YE" | "A" | "BA" | "BY" | "BYE" => Ok((Resample::Year, month(anchor, 12)?)),
            "YS" | "AS" | "BAS" | "BYS" => Ok((Resample::Year, before(month(anchor, 1)?))),
            _ => Err(bad()),
        }
    }

    /// A key that changes exactly when the period does. `anchor`: the
    /// weekday a week ends on (0 = Monday), the month a quarter or year ends
    /// in; None: Sunday, December.
    fn period(self, anchor: Option<u8>, day: i32) -> i64 {
        let (y, m, _) = civil(day);
        let a = i64::from(self.anchor_or_default(anchor));
        match self {
            // 1970-01-05 (day 4) was a Monday; a week ending on weekday `a`
            // starts on weekday a + 1.
            Resample::Week => i64::from(day - 4).saturating_sub((a + 1) % 7).div_euclid(7),
            Resample::Month => y * 12 + m,
            Resample::Quarter => (y * 12 + m - 1 - a).div_euclid(3),
            Resample::Year => (y * 12 + m - 1 - a).div_euclid(12),
        }
    }

    fn anchor_or_default(self, anchor: Option<u8>) -> u8 {
        anchor.unwrap_or(if self == Resample::Week { 6 } else { 12 })
    }

    /// The pandas spelling of the family with its anchor.
    pub fn label(self, anchor: Option<u8>) -> String {
        let anchor = self.anchor_or_default(anchor);
        let month = |a: u8| MONTHS.get(usize::from(a).saturating_sub(1)).copied().unwrap_or("DEC");
        match self {
            Resample::Week => format!("W-{}", WEEKDAYS.get(usize::from(anchor)).copied().unwrap_or("SUN")),
            Resample::Month => "M".into(),
            Resample::Quarter => format!("Q-{}", month(anchor)),
            Resample::Year => format!("A-{}", month(anchor)),
        }
    }
}

use crate::dates::civil;

#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub resample: Option<Resample>,
    /// The anchor of `resample` (see [`Resample::parse_rule`]); ignored
    /// without `resample`.
    pub anchor: Option<u8>,
    /// `sim(resample=[dates])`: rebalance at the close of the last trading
    /// day on or before each date (days since 1970-01-01, sorted). Takes
    /// precedence over `resample`.
    pub rebalance_dates: Option<Vec<i32>>,
    pub stop_loss: Option<f64>,
    pub take_profit: Option<f64>,
    pub position_limit: f64,
    pub fee_ratio: f64,
    pub tax_ratio: f64,
    pub trade_at_open: bool,
}

impl Params {
    /// What the result's `backtest.resample` should say: `W-SUN`, `Q-JAN`,
    /// `M`, `dates(12)`, or None for daily.
    pub fn resample_label(&self) -> Option<String> {
        if let Some(d) = &self.rebalance_dates {
            return Some(format!("dates({})", d.len()));
        }
        self.resample.map(|r| r.label(self.anchor))
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            resample: None,
            anchor: None,
            rebalance_dates: None,
            stop_loss: None,
            take_profit: None,
            position_limit: 1.0,
            fee_ratio: 1.425 / 1000.0,
            tax_ratio: 3.0 / 1000.0,
            trade_at_open: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub dates: Vec<i32>,
    pub equity: Vec<f64>,
    /// Days (index into `dates`) that ended with any holding.
    pub invested: Vec<bool>,
    pub closed_trade_returns: Vec<f64>,
    /// Σ over trades of traded value / equity before the trade (two-way).
    pub traded_fraction: f64,
    pub warnings: Vec<String>,
}

/// The price of symbol `i` on day `t`, forward-filled: a halted day keeps
/// the last price (so it returns 0). Looked up on demand instead of filling
/// the whole matrix: only held and traded symbols are ever priced, and the
/// walk back is one step unless the symbol is halted.
fn price_at(v: &[f64], rows: usize, t: usize, i: usize) -> f64 {
    let col = &v[i * rows..i * rows + rows];
    col[..=t].iter().rev().copied().find(|x| x.is_finite() && *x > 0.0).unwrap_or(f64::NAN)
}

pub fn run(m: &Market, pos: &Position, p: &Params) -> Result<Outcome, String> {
    let rows = m.rows();
    let mut warnings = Vec::new();
    if rows == 0 {
        return Err("the market has no dates".into());
    }
    // Rule 1: adjusted close if present; open scaled by the same factor.
    let close: &[f64] = m.adj_close.as_ref().unwrap_or(&m.close);
    let open_px = if p.trade_at_open {
        let open = m.open.as_ref().ok_or("trade_at_price='open' needs an `open` column")?;
        let scaled: Vec<f64> = match &m.adj_close {
            Some(adj) => open.iter().zip(adj).zip(&m.close).map(|((o, a), c)| o * a / c).collect(),
            None => open.clone(),
        };
        Some(scaled)
    } else {
        None
    };
    let trade_px: &[f64] = open_px.as_deref().unwrap_or(close);

    // Rule 2: map position symbols to market columns; drop the unpriced.
    let sym_ix: std::collections::HashMap<&str, usize> =
        m.symbols.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let mut cols: Vec<(usize, usize)> = Vec::new(); // (position column, market column)
    let mut dropped = Vec::new();
    for (j, s) in pos.symbols.iter().enumerate() {
        match sym_ix.get(s.as_str()) {
            Some(&i) => cols.push((j, i)),
            None => dropped.push(s.clone()),
        }
    }
    if !dropped.is_empty() {
        let shown: Vec<&str> = dropped.iter().take(5).map(String::as_str).collect();
        warnings.push(format!(
            "{} position symbol(s) have no prices and were dropped: {}",
            dropped.len(),
            shown.join(", ")
        ));
    }
    let prows = pos.dates.len();
    let Some(&first_pos) = pos.dates.first() else { return Err("the position has no dates".into()) };
    let Some(start) = m.dates.iter().position(|d| *d >= first_pos) else {
        return Err("the position starts after the last trading day".into());
    };
    // For each trading day, the latest position row on or before it.
    let mut row_of = vec![None; rows];
    let mut r = 0usize;
    for (t, d) in m.dates.iter().enumerate() {
        while r + 1 < prows && pos.dates[r + 1] <= *d {
            r += 1;
        }
        if pos.dates[r] <= *d {
            row_of[t] = Some(r);
        }
    }
    let weights_of = |t: usize| -> Vec<(usize, f64)> {
        let Some(r) = row_of[t] else { return Vec::new() };
        let raw: Vec<(usize, f64)> = cols
            .iter()
            .map(|&(j, i)| (i, pos.values[j * prows + r]))
            .map(|(i, v)| (i, if v.is_finite() { v } else { 0.0 }))
            .filter(|(_, v)| *v != 0.0)
            .collect();
        // Rule 4: booleans → equal weights; floats → scaled to |Σ| ≤ 1; then the cap.
        let mut w: Vec<(usize, f64)> = match pos.dtype {
            Dtype::Bool => {
                let n = raw.len() as f64;
                raw.into_iter().map(|(i, _)| (i, 1.0 / n)).collect()
            }
            Dtype::Float => {
                let gross: f64 = raw.iter().map(|(_, v)| v.abs()).sum();
                let scale = if gross > 1.0 { 1.0 / gross } else { 1.0 };
                raw.into_iter().map(|(i, v)| (i, v * scale)).collect()
            }
        };
        for (_, v) in w.iter_mut() {
            *v = v.clamp(-p.position_limit, p.position_limit);
        }
        w
    };

    // Rule 3: which closes decide a rebalance.
    let decides: Vec<bool> = (0..rows)
        .map(|t| {
            if t < start {
                return false;
            }
            if let Some(list) = &p.rebalance_dates {
                // A listed date acts as a period end: decided at the close
                // of the last trading day on or before it.
                let next = m.dates.get(t + 1).copied().unwrap_or(i32::MAX);
                let from = list.partition_point(|d| *d < m.dates[t]);
                return list.get(from).is_some_and(|d| *d < next);
            }
            match p.resample {
                None => t == start || row_of[t] != row_of[t - 1] && weights_of(t) != weights_of(t - 1),
                Some(rs) => t + 1 >= rows || rs.period(p.anchor, m.dates[t]) != rs.period(p.anchor, m.dates[t + 1]),
            }
        })
        .collect();

    let ncols = m.symbols.len();
    let px = |v: &[f64], t: usize, i: usize| price_at(v, rows, t, i);
    let mut shares = vec![0.0f64; ncols];
    let mut entry = vec![f64::NAN; ncols];
    let mut stopped = vec![false; ncols];
    // Symbols with shares: the daily work is proportional to these, not to
    // the whole universe.
    let mut held: Vec<usize> = Vec::new();
    let mut cash = 1.0f64;
    let mut ruined = false;
    let mut pending: Option<Vec<(usize, f64)>> = None;
    let mut pending_exits: Vec<usize> = Vec::new();
    let mut scratch = vec![f64::NAN; ncols];
    let mut out = Outcome {
        dates: Vec::with_capacity(rows - start),
        equity: Vec::with_capacity(rows - start),
        invested: Vec::with_capacity(rows - start),
        closed_trade_returns: Vec::new(),
        traded_fraction: 0.0,
        warnings,
    };

    // The day index drives several arrays (prices, decisions, dates) at once.
    #[allow(clippy::needless_range_loop)]
    for t in start..rows {
        // Rule 5: orders decided at the last close trade now. A rebalance
        // wins over a stop exit on the same day (rule 6).
        let mut orders: Vec<(usize, f64)> = Vec::new();
        if let Some(target) = pending.take() {
            // A stopped symbol stays out only until the next rebalance.
            stopped.iter_mut().for_each(|s| *s = false);
            // Everything held goes to zero unless the target says otherwise.
            for (i, w) in &target {
                scratch[*i] = *w;
            }
            orders.extend(held.iter().filter(|&&i| scratch[i].is_nan()).map(|&i| (i, 0.0)));
            for (i, w) in target {
                scratch[i] = f64::NAN;
                orders.push((i, w));
            }
        } else if !pending_exits.is_empty() {
            for &i in &pending_exits {
                stopped[i] = true;
                orders.push((i, 0.0));
            }
        }
        pending_exits.clear();
        if !orders.is_empty() {
            let equity_before = cash + held.iter().map(|&i| shares[i] * px(trade_px, t, i)).sum::<f64>();
            let mut traded = 0.0;
            for (i, w) in orders {
                let price = px(trade_px, t, i);
                if !price.is_finite() {
                    continue; // no price yet: cannot trade it, the weight stays in cash
                }
                let target_value = w * equity_before;
                let delta = target_value - shares[i] * price;
                if delta.abs() < 1e-12 {
                    continue;
                }
                // A negative delta sells (less long, or more short): taxed.
                let sold = (-delta).max(0.0);
                cash -= delta + p.fee_ratio * delta.abs() + p.tax_ratio * sold;
                traded += delta.abs();
                let new_shares = if (target_value / price).abs() < 1e-15 { 0.0 } else { target_value / price };
                if shares[i] == 0.0 && new_shares != 0.0 {
                    entry[i] = price;
                    held.push(i);
                } else if new_shares == 0.0 && shares[i] != 0.0 {
                    out.closed_trade_returns.push((price / entry[i] - 1.0) * shares[i].signum());
                    entry[i] = f64::NAN;
                }
                shares[i] = new_shares;
            }
            held.retain(|&i| shares[i] != 0.0);
            if equity_before > 0.0 {
                out.traded_fraction += traded / equity_before;
            }
        }
        // Mark to market at the close.
        let holdings: f64 = held.iter().map(|&i| shares[i] * px(close, t, i)).sum();
        let mut equity = cash + holdings;
        // Rule 7, ruin: equity that reaches zero stays at zero; nothing is
        // traded or held after it (no negative equity, no recovery from nothing).
        if ruined || equity <= 0.0 {
            if !ruined {
                out.warnings.push(format!(
                    "the equity reached zero on {}: the strategy is ruined and stays at zero",
                    crate::position::iso_date(m.dates[t])
                ));
            }
            ruined = true;
            equity = 0.0;
            cash = 0.0;
            for &i in &held {
                shares[i] = 0.0;
            }
            held.clear();
            pending_exits.clear();
        }
        out.dates.push(m.dates[t]);
        out.equity.push(equity);
        out.invested.push(!held.is_empty());
        // Rule 6: stops judged at this close, sold at the next trade.
        if p.stop_loss.is_some() || p.take_profit.is_some() {
            for &i in &held {
                if !entry[i].is_finite() || stopped[i] {
                    continue;
                }
                let moved = (px(close, t, i) / entry[i] - 1.0) * shares[i].signum();
                if p.stop_loss.is_some_and(|s| moved <= -s) || p.take_profit.is_some_and(|s| moved >= s) {
                    pending_exits.push(i);
                }
            }
        }
        if decides[t] && t + 1 < rows && !ruined {
            pending = Some(weights_of(t));
        }
    }
    Ok(out)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A market from rows of closes (one Vec per symbol).
    pub fn market(dates: &[i32], closes: &[&[f64]]) -> Market {
        let symbols: Vec<String> = (0..closes.len()).map(|i| format!("S{i}")).collect();
        Market {
            dates: dates.to_vec(),
            symbols,
            close: closes.iter().flat_map(|c| c.iter().copied()).collect(),
            open: None,
            adj_close: None,
        }
    }

    pub fn position(dates: &[i32], cols: &[&[f64]], dtype: Dtype) -> Position {
        Position {
            dates: dates.to_vec(),
            symbols: (0..cols.len()).map(|i| format!("S{i}")).collect(),
            values: cols.iter().flat_map(|c| c.iter().copied()).collect(),
            dtype,
        }
    }

    fn no_fees() -> Params {
        Params { fee_ratio: 0.0, tax_ratio: 0.0, ..Params::default() }
    }

    fn close_to(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn rule5_trades_at_the_next_close_and_drifts_with_prices() {
        // Decided at the close of day 0 (price 10), bought at day 1's close (10),
        // day 2 closes at 11: equity 1.0, 1.0, 1.1.
        let m = market(&[0, 1, 2], &[&[10.0, 10.0, 11.0]]);
        let p = position(&[0], &[&[1.0]], Dtype::Bool);
        let o = run(&m, &p, &no_fees()).expect("runs");
        assert_eq!(o.equity.len(), 3);
        assert!(
            close_to(o.equity[0], 1.0) && close_to(o.equity[1], 1.0) && close_to(o.equity[2], 1.1),
            "{:?}",
            o.equity
        );
    }

    #[test]
    fn rule5_fees_on_value_traded_and_tax_on_value_sold() {
        // Buy 1.0 at day 1: fee 0.001 → cash -0.001. Sell all at day 3 at 10:
        // value 1.0, fee 0.001 + tax 0.003 → equity 1 - 0.001 - 0.004 = 0.995.
        let m = market(&[0, 1, 2, 3], &[&[10.0, 10.0, 10.0, 10.0]]);
        let p = position(&[0, 2], &[&[1.0, 0.0]], Dtype::Float);
        let params = Params { fee_ratio: 0.001, tax_ratio: 0.003, ..Params::default() };
        let o = run(&m, &p, &params).expect("runs");
        assert!(close_to(o.equity[1], 0.999), "{:?}", o.equity);
        // Sold value is 0.1 share x 10 = 1.0: fee 0.001, tax 0.003.
        assert!(close_to(o.equity[3], 1.0 - 0.001 - 0.001 - 0.003), "{:?}", o.equity);
    }

    #[test]
    fn rule1_missing_prices_carry_forward_so_a_halted_day_returns_zero() {
        let m = market(&[0, 1, 2, 3], &[&[10.0, 10.0, f64::NAN, 12.0]]);
        let p = position(&[0], &[&[1.0]], Dtype::Bool);
        let o = run(&m, &p, &no_fees()).expect("runs");
        assert!(close_to(o.equity[2], 1.0) && close_to(o.equity[3], 1.2), "{:?}", o.equity);
    }

    #[test]
    fn rule1_trade_at_open_uses_open_scaled_by_the_adjustment() {
        // adj/close = 0.5: the open 20 trades as 10; day-1 close (adjusted) 11.
        let mut m = market(&[0, 1], &[&[20.0, 22.0]]);
        m.open = Some(vec![20.0, 20.0]);
        m.adj_close = Some(vec![10.0, 11.0]);
        let p = position(&[0], &[&[1.0]], Dtype::Bool);
        let o = run(&m, &p, &Params { trade_at_open: true, ..no_fees() }).expect("runs");
        assert!(close_to(o.equity[1], 1.1), "{:?}", o.equity);
    }

    #[test]
    fn rule2_a_weekend_position_date_applies_from_the_next_trading_day() {
        // Trading days 0, 3 (a gap); the position is dated 1: it applies from
        // day 3 (index 1), so the trade happens at index 2.
        let m = market(&[0, 3, 4, 5], &[&[10.0, 10.0, 10.0, 20.0]]);
        let p = position(&[1], &[&[1.0]], Dtype::Bool);
        let o = run(&m, &p, &no_fees()).expect("runs");
        assert_eq!(o.dates[0], 3, "equity starts at the first trading day of the aligned position");
        assert!(close_to(*o.equity.last().expect("last"), 2.0), "{:?}", o.equity);
    }

    #[test]
    fn rule2_symbols_without_prices_are_dropped_with_a_warning() {
        let m = market(&[0, 1, 2], &[&[10.0, 10.0, 11.0]]);
        let mut p = position(&[0], &[&[1.0], &[1.0]], Dtype::Bool);
        p.symbols[1] = "NOPE".into();
        let o = run(&m, &p, &no_fees()).expect("runs");
        assert!(o.warnings[0].contains("NOPE"));
        assert!(close_to(o.equity[2], 1.1), "all weight on the priced symbol: {:?}", o.equity);
    }

    #[test]
    fn rule3_monthly_resample_rebalances_on_the_last_trading_day_of_each_month() {
        // Days: Jan 30, Jan 31, Feb 1, Feb 2 (2024). The target switches from
        // S0 to S1 on Feb 1, but with resample M it is only read at Jan 31's
        // close (S0) and Feb 2 (end of data).
        let d = |s: &str| crate::dates::parse_iso_date(s).expect("date");
        let dates = [d("2024-01-30"), d("2024-01-31"), d("2024-02-01"), d("2024-02-02")];
        let m = market(&dates, &[&[10.0, 10.0, 12.0, 12.0], &[10.0, 10.0, 5.0, 5.0]]);
        let p = position(&dates, &[&[1.0, 1.0, 0.0, 0.0], &[0.0, 0.0, 1.0, 1.0]], Dtype::Bool);
        let o = run(&m, &p, &Params { resample: Some(Resample::Month), ..no_fees() }).expect("runs");
        // Bought S0 at Feb 1's close (12) after Jan 31's decision: flat after.
        assert!(close_to(*o.equity.last().expect("last"), 1.0), "{:?}", o.equity);
        // Daily: S0 bought Jan 31 at 10, switched to S1 at Feb 2's close (S0 at 12).
        let daily = run(&m, &p, &no_fees()).expect("runs");
        assert!(close_to(*daily.equity.last().expect("last"), 1.2), "{:?}", daily.equity);
        assert_eq!(Resample::parse("ME"), Ok(Resample::Month));
        assert_eq!(Resample::parse("W-FRI"), Ok(Resample::Week));
        assert!(Resample::parse("fortnightly").is_err());
    }

    #[test]
    fn rule4_booleans_equal_weight_floats_scaled_and_capped() {
        let m = market(&[0, 1, 2], &[&[10.0, 10.0, 20.0], &[10.0, 10.0, 10.0]]);
        let b = position(&[0], &[&[1.0], &[1.0]], Dtype::Bool);
        assert!(close_to(*run(&m, &b, &no_fees()).expect("b").equity.last().expect("l"), 1.5));
        // Floats 3 and 1: scaled to 0.75 / 0.25.
        let f = position(&[0], &[&[3.0], &[1.0]], Dtype::Float);
        assert!(close_to(*run(&m, &f, &no_fees()).expect("f").equity.last().expect("l"), 1.75));
        // Capped at 0.5 each: S0 doubles on half the equity.
        let capped = run(&m, &f, &Params { position_limit: 0.5, ..no_fees() }).expect("c");
        assert!(close_to(*capped.equity.last().expect("l"), 1.5), "{:?}", capped.equity);
    }

    #[test]
    fn rule6_stop_loss_sells_next_day_and_stays_out_until_the_next_rebalance() {
        // Bought at 10 (day 1); day 2 closes at 9 (-10%, past an 8% stop);
        // sold at day 3's close (9); days 4-5 fall further, equity stays 0.9.
        let m = market(&[0, 1, 2, 3, 4, 5], &[&[10.0, 10.0, 9.0, 9.0, 5.0, 5.0]]);
        let p = position(&[0], &[&[1.0]], Dtype::Bool);
        let o = run(&m, &p, &Params { stop_loss: Some(0.08), ..no_fees() }).expect("runs");
        assert!(close_to(*o.equity.last().expect("l"), 0.9), "{:?}", o.equity);
        assert_eq!(o.closed_trade_returns.len(), 1);
        assert!(close_to(o.closed_trade_returns[0], -0.1));
    }

    #[test]
    fn rule6_take_profit() {
        let m = market(&[0, 1, 2, 3, 4], &[&[10.0, 10.0, 12.0, 12.0, 6.0]]);
        let p = position(&[0], &[&[1.0]], Dtype::Bool);
        let o = run(&m, &p, &Params { take_profit: Some(0.15), ..no_fees() }).expect("runs");
        assert!(close_to(*o.equity.last().expect("l"), 1.2), "{:?}", o.equity);
    }

    #[test]
    fn rule6_a_rebalance_on_the_sale_day_wins() {
        // Stop hit at day 2's close; the target changes at day 2 too (to S1):
        // the rebalance order (S1) is what trades on day 3.
        let m = market(&[0, 1, 2, 3, 4], &[&[10.0, 10.0, 9.0, 9.0, 9.0], &[10.0, 10.0, 10.0, 10.0, 20.0]]);
        let p = position(&[0, 2], &[&[1.0, 0.0], &[0.0, 1.0]], Dtype::Bool);
        let o = run(&m, &p, &Params { stop_loss: Some(0.05), ..no_fees() }).expect("runs");
        assert!(close_to(*o.equity.last().expect("l"), 1.8), "{:?}", o.equity);
    }

    #[test]
    fn property_doubling_costs_never_increases_the_return() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..50 {
            let days: Vec<i32> = (0..40).collect();
            let closes: Vec<Vec<f64>> = (0..4)
                .map(|_| {
                    let mut p = 10.0;
                    days.iter()
                        .map(|_| {
                            p *= 1.0 + (rnd() - 0.5) * 0.1;
                            p
                        })
                        .collect()
                })
                .collect();
            let held: Vec<Vec<f64>> =
                (0..4).map(|_| days.iter().map(|_| if rnd() < 0.4 { 1.0 } else { 0.0 }).collect()).collect();
            let m = market(&days, &closes.iter().map(Vec::as_slice).collect::<Vec<_>>());
            let p = position(&days, &held.iter().map(Vec::as_slice).collect::<Vec<_>>(), Dtype::Bool);
            let cheap = Params { fee_ratio: 0.001, tax_ratio: 0.002, ..Params::default() };
            let dear = Params { fee_ratio: 0.002, tax_ratio: 0.004, ..Params::default() };
            let a = *run(&m, &p, &cheap).expect("cheap").equity.last().expect("l");
            let b = *run(&m, &p, &dear).expect("dear").equity.last().expect("l");
            assert!(b <= a + 1e-12, "case {case}: doubling costs raised equity from {a} to {b}");
        }
    }

    #[test]
    fn rule7_equity_that_reaches_zero_stays_at_zero() {
        // A full short (weight -1) of a stock that triples: equity 1 → 1 - 2 = -1
        // at day 2; ruin clamps it to zero for good, though the price falls back.
        let m = market(&[0, 1, 2, 3, 4], &[&[10.0, 10.0, 30.0, 5.0, 5.0]]);
        let p = position(&[0], &[&[-1.0]], Dtype::Float);
        let o = run(&m, &p, &no_fees()).expect("runs");
        assert_eq!(o.equity[2..].to_vec(), vec![0.0, 0.0, 0.0], "{:?}", o.equity);
        assert!(o.warnings.iter().any(|w| w.contains("ruined")), "{:?}", o.warnings);
        assert!(!o.invested[3]);
    }

    #[test]
    fn rule3_anchored_aliases_follow_pandas_period_ends() {
        let d = |s: &str| crate::dates::parse_iso_date(s).expect("date");
        // W-WED: Wed 2024-01-10 ends a week, Thu 01-11 starts the next.
        let wed = |s: &str| Resample::Week.period(Some(2), d(s));
        assert_eq!(wed("2024-01-04"), wed("2024-01-10"));
        assert_ne!(wed("2024-01-10"), wed("2024-01-11"));
        assert_eq!(wed("2024-01-11"), wed("2024-01-17"));
        // W (= W-SUN): Sunday ends the week, Monday starts one.
        let sun = |s: &str| Resample::Week.period(None, d(s));
        assert_eq!(sun("2024-01-08"), sun("2024-01-14"));
        assert_ne!(sun("2024-01-14"), sun("2024-01-15"));
        // Q-JAN: quarters Feb-Apr, May-Jul; A-JUN: years Jul-Jun.
        let qjan = |s: &str| Resample::Quarter.period(Some(1), d(s));
        assert_eq!(qjan("2024-02-01"), qjan("2024-04-30"));
        assert_ne!(qjan("2024-01-31"), qjan("2024-02-01"));
        assert_ne!(qjan("2024-04-30"), qjan("2024-05-01"));
        let ajun = |s: &str| Resample::Year.period(Some(6), d(s));
        assert_eq!(ajun("2023-07-01"), ajun("2024-06-28"));
        assert_ne!(ajun("2024-06-28"), ajun("2024-07-01"));
        let q = |s: &str| Resample::Quarter.period(None, d(s));
        assert_eq!(q("2024-01-02"), q("2024-03-29"));
        assert_ne!(q("2024-03-29"), q("2024-04-01"));
    }

    #[test]
    fn rule3_a_list_of_dates_rebalances_at_the_last_close_on_or_before_each() {
        // Trading days Mon 1..Fri 5 (2024-01-01..05); dates Jan 2 and Sat Jan 6.
        let d = |s: &str| crate::dates::parse_iso_date(s).expect("date");
        let dates: Vec<i32> = (1..=5).map(|k| d(&format!("2024-01-0{k}"))).collect();
        let m = market(&dates, &[&[10.0, 10.0, 20.0, 20.0, 40.0]]);
        let p = position(&dates[..1], &[&[1.0]], Dtype::Bool);
        let params = Params { rebalance_dates: Some(vec![d("2024-01-02"), d("2024-01-06")]), ..no_fees() };
        let o = run(&m, &p, &params).expect("runs");
        // Decided at Jan 2's close, bought at Jan 3's close (20): 40 → 2.0.
        assert!(close_to(o.equity[2], 1.0) && close_to(o.equity[4], 2.0), "{:?}", o.equity);
        assert_eq!(params.resample_label().as_deref(), Some("dates(2)"));
    }

    #[test]
    fn all_cash_position_stays_at_one() {
        let m = market(&[0, 1, 2], &[&[10.0, 5.0, 20.0]]);
        let p = position(&[0], &[&[0.0]], Dtype::Float);
        let o = run(&m, &p, &Params::default()).expect("runs");
        assert!(o.equity.iter().all(|e| close_to(*e, 1.0)));
    }
}
