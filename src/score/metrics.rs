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

pub fn compute(o: &Outcome, warnings: &mut Vec<String>) -> Metrics {
    let eq = &o.equity;
    let n = eq.len();
    let first = o.dates.first().copied().unwrap_or(0);
    let last = o.dates.last().copied().unwrap_or(0);
    let days = i64::from(last - first);
    let years = days as f64 / 365.25;
    let returns: Vec<f64> = eq.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    let std = if returns.len() > 1 {
        (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    let downside = (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64).sqrt();
    let end_equity = eq.last().copied().unwrap_or(f64::NAN);
    let total_return = end_equity - 1.0;
    let annual_return = if years > 0.0 && end_equity > 0.0 { end_equity.powf(1.0 / years) - 1.0 } else { f64::NAN };
    let mut peak = f64::MIN;
    let mut max_dd = 0.0f64;
    for e in eq {
        peak = peak.max(*e);
        max_dd = max_dd.min(e / peak - 1.0);
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
    Metrics {
        total_return: check("total_return", total_return),
        annual_return: check("annual_return", annual_return),
        sharpe_ratio: check("sharpe_ratio", mean / std * TRADING_DAYS.sqrt()),
        sortino_ratio: check("sortino_ratio", mean / downside * TRADING_DAYS.sqrt()),
        volatility: check("volatility", std * TRADING_DAYS.sqrt()),
        max_drawdown: check("max_drawdown", max_dd),
        calmar_ratio: check("calmar_ratio", annual_return / max_dd.abs()),
        win_rate: if trades == 0 { None } else { Some(wins as f64 / trades as f64) },
        trades,
        // One-way turnover per year: half the traded value over equity, annualised.
        turnover: check("turnover", o.traded_fraction / 2.0 / years),
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
        let m = compute(&outcome(&[1.0, 1.1, 0.99, 1.089]), &mut w);
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
        let m = compute(&o, &mut w);
        assert_eq!(m.sharpe_ratio, None);
        assert_eq!(m.calmar_ratio, None);
        assert_eq!(m.win_rate, None, "no closed trades");
        assert_eq!(m.total_return, Some(0.0));
        assert!(w.iter().any(|x| x.contains("sharpe_ratio")));
    }
}
