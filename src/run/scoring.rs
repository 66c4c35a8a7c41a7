//! Scoring an `ok` run on the host: the position the strategy returned, the
//! market data read here, the rules of docs/scoring.md. The backtest
//! parameters the strategy passed to `sim(...)` shape the strategy
//! (resample, stops, caps, trade price); the costs are the host's
//! (`scoring.fee_ratio`, `scoring.tax_ratio`): a strategy may raise them,
//! never lower them, or it could buy itself a better score.

use std::path::Path;

use super::Verdict;
use crate::config::Settings;
use crate::harness::SummaryError;
use crate::report::{BacktestParams, Status};

/// What scoring produced for a successful run.
pub struct Scored {
    pub metrics: crate::score::Metrics,
    pub params: BacktestParams,
    pub outcome: crate::score::Outcome,
    pub warnings: Vec<String>,
}

fn fail(v: &mut Verdict, status: Status, kind: &str, message: String) -> Option<Scored> {
    v.status = status;
    v.error = Some(SummaryError { kind: kind.into(), message, traceback: String::new() });
    None
}

/// Score the verdict's position, or turn the verdict into the reason it
/// cannot be scored: a position or `sim()` arguments the rules refuse are
/// the strategy's `invalid_output`; market data the host cannot read is a
/// `scoring_error`.
pub fn score(v: &mut Verdict, data: &Path, s: &Settings) -> Option<Scored> {
    let position = v.decoded.take().filter(|_| v.status == Status::Ok)?;
    let mut warnings = Vec::new();
    let sim = v.summary.as_ref().and_then(|x| x.sim_params.clone()).unwrap_or_default();
    let params = match crate::score::params_from_sim(&sim, s.fee_ratio, s.tax_ratio, &mut warnings) {
        Ok(p) => p,
        Err(why) => return fail(v, Status::InvalidOutput, "InvalidOutput", why),
    };
    let market = match crate::score::load(data) {
        Ok(m) => m,
        Err(why) => {
            let message = format!("the host could not read the market data for scoring: {why}");
            return fail(v, Status::ScoringError, "ScoringError", message);
        }
    };
    match crate::score::run(&market, &position, &params) {
        Ok(outcome) => {
            warnings.extend(outcome.warnings.iter().cloned());
            let opts = crate::score::MetricsOptions { min_window_days: s.min_window_days };
            let metrics = crate::score::compute_with(&outcome, &opts, &mut warnings);
            Some(Scored { metrics, params: BacktestParams::from(&params), outcome, warnings })
        }
        Err(why) => {
            fail(v, Status::InvalidOutput, "InvalidOutput", format!("the position cannot be backtested: {why}"))
        }
    }
}

/// The daily equity curve: Parquet (`date` DATE, `equity` DOUBLE) when the
/// file name ends in `.parquet`, else CSV (`date,equity`).
pub fn write_equity(path: &Path, o: &crate::score::Outcome) -> std::io::Result<()> {
    use std::io::Write;
    if path.extension().is_some_and(|x| x == "parquet") {
        return crate::sample::write_series(path, &o.dates, "equity", &o.equity).map_err(std::io::Error::other);
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "date,equity")?;
    for (d, e) in o.dates.iter().zip(&o.equity) {
        writeln!(f, "{},{e}", crate::position::iso_date(*d))?;
    }
    f.flush()
}
