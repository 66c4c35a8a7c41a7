//! Scoring on the host: the market file read here, the position the strategy
//! returned, the rules of docs/scoring.md, the metrics. Nothing the container
//! printed, wrote or claimed enters a number.

mod backtest;
mod market;
mod metrics;
mod params;
mod prices;

pub use crate::dates::{civil, days_from_civil, parse_iso_date};
pub use backtest::{run, Outcome, Params, Resample};
pub use market::{load, Market};
pub use metrics::{compute, compute_with, Metrics, MetricsOptions, MIN_WINDOW_DAYS};
pub use params::params_from_sim;
pub use prices::{
    alias_groups, alias_groups_json, price_spec, resolve, tables, tables_in, Column, PriceSpec, ALIASES_JSON,
};
