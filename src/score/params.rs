//! The backtest parameters from what `sim(...)` recorded in the sandbox.
//!
//! The harness records each keyword argument's `repr()`; only plain literals
//! are accepted here (numbers, quoted strings, `None`, booleans): the values
//! come from untrusted code and are parsed, never evaluated.

use std::collections::BTreeMap;

use super::backtest::{Params, Resample};

/// Arguments of finlab's `sim` that do not change the backtest (display,
/// upload, naming): accepted silently.
const COSMETIC: &[&str] = &["name", "upload", "live_performance_start", "notification_enable", "market", "fast_mode"];

enum Lit {
    None,
    Num(f64),
    Str(String),
    Bool,
    /// A list of `'YYYY-MM-DD'` strings: how the harness records
    /// `resample=<list or DatetimeIndex of dates>`.
    Dates(Vec<i32>),
}

/// `['2024-01-31', '2024-02-29']` → days, sorted and deduplicated; None
/// unless every element is a quoted ISO date.
fn date_list(t: &str) -> Option<Vec<i32>> {
    let inner = t.strip_prefix('[')?.strip_suffix(']')?.trim();
    if inner.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for item in inner.split(',') {
        let item = item.trim();
        let unquoted = item
            .strip_prefix('\'')
            .and_then(|x| x.strip_suffix('\''))
            .or_else(|| item.strip_prefix('"').and_then(|x| x.strip_suffix('"')))?;
        if unquoted.len() != 10 {
            return None;
        }
        out.push(crate::dates::parse_iso_date(unquoted)?);
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

fn literal(repr: &str) -> Option<Lit> {
    let t = repr.trim();
    match t {
        "None" => return Some(Lit::None),
        "True" | "False" => return Some(Lit::Bool),
        _ => {}
    }
    if let Some(inner) = t
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .or_else(|| t.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
    {
        return Some(Lit::Str(inner.to_string()));
    }
    if let Some(d) = date_list(t) {
        return Some(Lit::Dates(d));
    }
    t.parse::<f64>().ok().filter(|x| x.is_finite()).map(Lit::Num)
}

/// `fee_floor`/`tax_floor` are the host's costs: a strategy may ask for more,
/// never less.
pub fn params_from_sim(
    sim: &BTreeMap<String, String>,
    fee_floor: f64,
    tax_floor: f64,
    warnings: &mut Vec<String>,
) -> Result<Params, String> {
    let mut p = Params { fee_ratio: fee_floor, tax_ratio: tax_floor, ..Params::default() };
    for (key, repr) in sim {
        let lit = literal(repr);
        let bad = || format!("sim({key}={repr}): not a value the host scorer accepts");
        match (key.as_str(), lit) {
            (_, None) if !COSMETIC.contains(&key.as_str()) => return Err(bad()),
            ("resample", Some(Lit::None)) => p.resample = None,
            ("resample", Some(Lit::Str(s))) => {
                let (family, anchor) = Resample::parse_rule(&s)?;
                p.resample = Some(family);
                p.anchor = Some(anchor);
            }
            ("resample", Some(Lit::Dates(d))) => p.rebalance_dates = Some(d),
            ("stop_loss", Some(Lit::None)) | ("take_profit", Some(Lit::None)) => {}
            ("stop_loss", Some(Lit::Num(x))) if x > 0.0 => p.stop_loss = Some(x),
            ("take_profit", Some(Lit::Num(x))) if x > 0.0 => p.take_profit = Some(x),
            ("position_limit", Some(Lit::Num(x))) if x > 0.0 && x <= 1.0 => p.position_limit = x,
            ("trade_at_price", Some(Lit::Str(s))) => match s.as_str() {
                "close" => p.trade_at_open = false,
                "open" => p.trade_at_open = true,
                other => return Err(format!("sim(trade_at_price={other:?}): use 'close' or 'open'")),
            },
            ("fee_ratio", Some(Lit::Num(x))) | ("tax_ratio", Some(Lit::Num(x))) => {
                let floor = if key == "fee_ratio" { fee_floor } else { tax_floor };
                if x < floor {
                    warnings.push(format!("sim({key}={x}) is below the host's {floor}; the host's value is used"));
                } else if key == "fee_ratio" {
                    p.fee_ratio = x;
                } else {
                    p.tax_ratio = x;
                }
            }
            (k, _) if COSMETIC.contains(&k) => {}
            (
                "resample" | "stop_loss" | "take_profit" | "position_limit" | "trade_at_price" | "fee_ratio"
                | "tax_ratio",
                _,
            ) => return Err(bad()),
            (k, _) => warnings.push(format!("sim({k}=...) is recorded but not used by the host scorer")),
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn finlab_arguments_become_parameters() {
        let mut w = Vec::new();
        let p = params_from_sim(
            &sim(&[
                ("resample", "'M'"),
                ("stop_loss", "0.08"),
                ("trade_at_price", "'open'"),
                ("name", "'x'"),
                ("upload", "False"),
            ]),
            0.001425,
            0.003,
            &mut w,
        )
        .expect("valid");
        assert_eq!(p.resample, Some(Resample::Month));
        assert_eq!(p.stop_loss, Some(0.08));
        assert!(p.trade_at_open);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn costs_can_rise_but_never_fall_below_the_hosts() {
        let mut w = Vec::new();
        let p =
            params_from_sim(&sim(&[("fee_ratio", "0.0"), ("tax_ratio", "0.01")]), 0.001425, 0.003, &mut w).expect("ok");
        assert_eq!(p.fee_ratio, 0.001425, "a strategy cannot make trading free");
        assert_eq!(p.tax_ratio, 0.01);
        assert!(w[0].contains("below the host"));
    }

    #[test]
    fn unknown_arguments_warn_and_bad_values_are_refused() {
        let mut w = Vec::new();
        assert!(params_from_sim(&sim(&[("mystery", "3")]), 0.0, 0.0, &mut w).is_ok());
        assert!(w[0].contains("mystery"));
        assert!(params_from_sim(&sim(&[("stop_loss", "<function f>")]), 0.0, 0.0, &mut w).is_err());
        assert!(params_from_sim(&sim(&[("position_limit", "5")]), 0.0, 0.0, &mut w).is_err());
        assert!(params_from_sim(&sim(&[("resample", "'fortnight'")]), 0.0, 0.0, &mut w).is_err());
        for bad in ["'2W'", "'D'", "'M-JAN'", "'W-XYZ'", "['2024-01-31', 'soon']", "[]", "[1, 2]"] {
            assert!(params_from_sim(&sim(&[("resample", bad)]), 0.0, 0.0, &mut w).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn resample_anchors_and_date_lists_are_kept() {
        let mut w = Vec::new();
        let p = params_from_sim(&sim(&[("resample", "'W-WED'")]), 0.0, 0.0, &mut w).expect("ok");
        assert_eq!((p.resample, p.anchor), (Some(Resample::Week), Some(2)));
        assert_eq!(p.resample_label().as_deref(), Some("W-WED"));
        let p = params_from_sim(&sim(&[("resample", "'QS-FEB'")]), 0.0, 0.0, &mut w).expect("ok");
        assert_eq!(p.resample_label().as_deref(), Some("Q-JAN"));
        let p = params_from_sim(
            &sim(&[("resample", "['2024-02-29', '2024-01-31']"), ("upload", "False")]),
            0.0,
            0.0,
            &mut w,
        )
        .expect("ok");
        let d = |s: &str| crate::score::parse_iso_date(s).expect("date");
        assert_eq!(p.rebalance_dates, Some(vec![d("2024-01-31"), d("2024-02-29")]));
        assert!(w.is_empty(), "{w:?}");
    }
}
