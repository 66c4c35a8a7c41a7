//! Metrics from an equity curve, with the JSON field names the result uses.
//! Non-finite values become `null` with a warning, never garbage numbers.

use serde::Serialize;

use super::backtest::Outcome;
use crate::position::iso_date;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub total_return: Option<f64>,
    pub annual_return: Option<f64>,
    pub sharpe_ratio: Option<f64>,
    pub sortino_ratio: Option<f64>,
    pub volatility: Option<f64>,
    pub max_drawdown: Option<f64>,
    pub calmar_ratio: Option<f64>,
    pub win_rate: Option<f64>,
    pub trades: usize,
    pub turnover: Option<f64>,
    pub exposure: Option<f64>,
    pub start: String,
    pub end: String,
    pub days: i64,
}

const TRADING_DAYS: f64 = 252.0;

/// Below this many trading days (points of the equity curve) the annualised
/// metrics are null: a few days' return raised to the power 365.25/days is
/// noise, not a number to rank strategies by.
pub const MIN_WINDOW_DAYS: usize = 60;

/// Options of the metrics (the lead may wire `min_window_days` to config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricsOptions {
    pub min_window_days: usize,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions { min_window_days: MIN_WINDOW_DAYS }
    }
}

/// [`compute_with`] with the default options.
pub fn compute(o: &Outcome, warnings: &mut Vec<String>) -> Metrics {
    compute_with(o, &MetricsOptions::default(), warnings)
}

pub fn compute_with(o: &Outcome, opts: &MetricsOptions, warnings: &mut Vec<String>) -> Metrics {
    let eq = &o.equity;
    let n = eq.len();
    let first = o.dates.first().copied().unwrap_or(0);
    let last = o.dates.last().copied().unwrap_or(0);
    let days = i64::from(last - first);
    let years = days as f64 / 365.25;
    // After ruin the curve stays at zero: those days return 0, not 0/0.
    let returns: Vec<f64> = eq.windows(2).map(|w| if w[0] == 0.0 { 0.0 } else { w[1] / w[0] - 1.0 }).collect();
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    let std = if returns.len() > 1 {
        (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    let downside = (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64).sqrt();
    let end_equity = eq.last().copied().unwrap_or(f64::NAN);
    let total_return = end_equity - 1.0;
    let annual_return = if years > 0.0 && end_equity >= 0.0 { end_equity.powf(1.0 / years) - 1.0 } else { f64::NAN };
    let mut peak = f64::MIN;
    let mut max_dd = 0.0f64;
    for e in eq {
        peak = peak.max(*e);
        if peak > 0.0 {
            max_dd = max_dd.min(e / peak - 1.0);
        }
    }
    // Equity never goes below zero (ruin), so a drawdown is at worst -100%.
    let max_dd = max_dd.max(-1.0);
    let short = n < opts.min_window_days;
    if short {
        warnings.push(format!(
            "the backtest spans {n} trading days, under the {}-day minimum: annual_return, sharpe_ratio, \
             sortino_ratio, volatility, calmar_ratio and turnover are null",
            opts.min_window_days
        ));
    }
    let wins = o.closed_trade_returns.iter().filter(|r| **r > 0.0).count();
    let trades = o.closed_trade_returns.len();
    let mut check = |name: &str, v: f64| -> Option<f64> {
        if v.is_finite() {
            Some(v)
        } else {
            warnings.push(format!(
                "metric `{name}` is undefined for this run (not a finite number) and is reported as null"
            ));
            None
        }
    };
    let mut annualised = |name: &str, v: f64| if short { None } else { check(name, v) };
    let annual = (
        annualised("annual_return", annual_return),
        annualised("sharpe_ratio", mean / std * TRADING_DAYS.sqrt()),
        annualised("sortino_ratio", mean / downside * TRADING_DAYS.sqrt()),
        annualised("volatility", std * TRADING_DAYS.sqrt()),
        annualised("calmar_ratio", annual_return / max_dd.abs()),
        // One-way turnover per year: half the traded value over equity, annualised.
        annualised("turnover", o.traded_fraction / 2.0 / years),
    );
    Metrics {
        total_return: check("total_return", total_return),
        annual_return: annual.0,
        sharpe_ratio: annual.1,
        sortino_ratio: annual.2,
        volatility: annual.3,
        max_drawdown: check("max_drawdown", max_dd),
        calmar_ratio: annual.4,
        win_rate: if trades == 0 { None } else { Some(wins as f64 / trades as f64) },
        trades,
        turnover: annual.5,
        exposure: check("exposure", o.invested.iter().filter(|i| **i).count() as f64 / n as f64),
        start: iso_date(first),
        end: iso_date(last),
        days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(equity: &[f64]) -> Outcome {
        Outcome {
            dates: (0..equity.len() as i32).collect(),
            equity: equity.to_vec(),
            invested: equity.iter().map(|_| true).collect(),
            closed_trade_returns: vec![0.1, -0.05],
            traded_fraction: 2.0,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn hand_computed_metrics() {
        // Equity 1.0 → 1.1 → 0.99 → 1.089: returns +10%, -10%, +10%.
        let mut w = Vec::new();
        let m = compute_with(&outcome(&[1.0, 1.1, 0.99, 1.089]), &MetricsOptions { min_window_days: 0 }, &mut w);
        assert!((m.total_return.expect("tr") - 0.089).abs() < 1e-12);
        // mean 1/30, sample std: deviations 2/30, -4/30, 2/30 → var (4+16+4)/900/2 = 24/1800.
        let mean = 1.0 / 30.0;
        let std = (24.0f64 / 1800.0).sqrt();
        assert!((m.sharpe_ratio.expect("sr") - mean / std * 252f64.sqrt()).abs() < 1e-9);
        // downside: sqrt(mean(0, 0.01, 0)) = sqrt(0.01/3)
        assert!((m.sortino_ratio.expect("so") - mean / (0.01f64 / 3.0).sqrt() * 252f64.sqrt()).abs() < 1e-9);
        assert!((m.max_drawdown.expect("dd") - (0.99 / 1.1 - 1.0)).abs() < 1e-12);
        assert_eq!(m.win_rate, Some(0.5));
        assert_eq!(m.trades, 2);
        assert_eq!(m.days, 3);
        // CAGR over 3 calendar days: 1.089^(365.25/3) - 1, a huge but finite number.
        assert!(
            (m.annual_return.expect("ar") - (1.089f64.powf(365.25 / 3.0) - 1.0)).abs()
                < 1e-6 * m.annual_return.expect("ar")
        );
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn undefined_metrics_are_null_with_a_warning() {
        // A flat curve: zero std → Sharpe undefined; no drawdown → Calmar undefined.
        let mut w = Vec::new();
        let mut o = outcome(&[1.0, 1.0, 1.0]);
        o.closed_trade_returns.clear();
        let m = compute_with(&o, &MetricsOptions { min_window_days: 0 }, &mut w);
        assert_eq!(m.sharpe_ratio, None);
        assert_eq!(m.calmar_ratio, None);
        assert_eq!(m.win_rate, None, "no closed trades");
        assert_eq!(m.total_return, Some(0.0));
        assert!(w.iter().any(|x| x.contains("sharpe_ratio")));
    }

    #[test]
    fn under_the_minimum_window_annualised_metrics_are_null_with_a_warning() {
        let mut w = Vec::new();
        let curve: Vec<f64> = (0..59).map(|i| 1.0 + 0.001 * f64::from(i)).collect();
        let m = compute(&outcome(&curve), &mut w);
        assert_eq!((m.annual_return, m.sharpe_ratio, m.sortino_ratio), (None, None, None));
        assert_eq!((m.volatility, m.calmar_ratio, m.turnover), (None, None, None));
        assert!(m.total_return.is_some() && m.max_drawdown.is_some());
        assert!(w.iter().any(|x| x.contains("60-day minimum")), "{w:?}");
        let mut w = Vec::new();
        let curve: Vec<f64> =
            (0..60).map(|i| 1.0 + 0.001 * f64::from(i) * if i % 2 == 0 { 1.0 } else { 0.5 }).collect();
        assert!(compute(&outcome(&curve), &mut w).sharpe_ratio.is_some(), "{w:?}");
        assert_eq!(MetricsOptions::default().min_window_days, 60);
    }

    #[test]
    fn a_ruined_curve_has_a_minus_100_percent_drawdown_and_zero_returns_after() {
        let mut w = Vec::new();
        let mut curve = vec![1.0, 1.2, 0.0];
        curve.extend(std::iter::repeat_n(0.0, 70));
        let m = compute(&outcome(&curve), &mut w);
        assert_eq!(m.max_drawdown, Some(-1.0));
        assert_eq!(m.total_return, Some(-1.0));
        assert_eq!(m.annual_return, Some(-1.0));
        assert!(m.sharpe_ratio.is_some_and(f64::is_finite), "returns after ruin are 0, not NaN: {w:?}");
    }
}
