//! Protocol version 1 between the host and `harness.py`.
//!
//! The host sends one JSON request on stdin; the harness answers with frames
//! (see [`super::frames`]). The summary frame is parsed strictly into
//! [`Summary`]: it is written by a process the strategy controls, so the host
//! takes from it only what the strategy could say anyway (its own error, its
//! prints, library versions for display) and never a metric.

use serde::{Deserialize, Serialize};

/// The harness program, run as `python3 -I -B -c SOURCE`: harness.py, the
/// runtime policy it installs (its own file, the same program), and the call.
pub const SOURCE: &str = concat!(include_str!("harness.py"), "\n", include_str!("runtime_policy.py"), "\nmain()\n");
/// The finlab-compatible API, sent in the request and installed by the harness.
pub const COMPAT: &str = include_str!("finlab_compat.py");
pub const PROTOCOL: u32 = 1;
pub const PROTOCOL_STR: &str = "1";

#[derive(Serialize)]
struct Request<'a> {
    protocol: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filename: Option<&'a str>,
    compat: &'a str,
    data_path: &'a str,
    max_position_bytes: usize,
    /// The one alias table (src/harness/aliases.json), so the harness never
    /// keeps a copy of its own.
    aliases: serde_json::Value,
    /// `name → data.get key` of the columns the host prices with.
    #[serde(skip_serializing_if = "Option::is_none")]
    prices: Option<std::collections::BTreeMap<&'static str, String>>,
    /// What the strategy finds pre-bound besides `data`, `sim`, `pd`, `np`.
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a RunContext>,
    /// The audit-hook layer (PEP 578), on unless `--no-runtime-policy`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    runtime_policy: bool,
    /// The screening allow-list, which the runtime policy's imports follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_imports: Option<&'a [String]>,
}

/// The runtime layer's switch and its import allow-list.
pub struct Policy<'a> {
    pub on: bool,
    pub allowed_imports: &'a [String],
}

/// What the host tells the strategy about the run: the pre-bound
/// `start_date`/`end_date` (`--start`/`--end`; None = the price data's first
/// and last date, which the harness reads itself), `fee_ratio`/`tax_ratio`
/// (the host's effective costs: the floors `sim()` cannot go below).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    pub fee_ratio: f64,
    pub tax_ratio: f64,
}

/// The stdin document for one run, without a run context or price columns
/// (the harness then resolves prices through the alias table and binds the
/// default costs).
pub fn request(source: &str, filename: &str, data_path: &str, max_position_bytes: usize) -> Vec<u8> {
    build(source, filename, data_path, max_position_bytes, None, None)
}

/// The stdin document for one run, with the host's price columns (from
/// [`crate::score::price_spec`] on the host path; keys are `TABLE:COL`, valid
/// wherever the directory is mounted) and the run context.
pub fn request_for(
    source: &str,
    filename: &str,
    data_path: &str,
    max_position_bytes: usize,
    prices: &crate::score::PriceSpec,
    run: &RunContext,
) -> Vec<u8> {
    build(source, filename, data_path, max_position_bytes, Some(prices.keys()), Some(run))
}

fn build(
    source: &str,
    filename: &str,
    data_path: &str,
    max_position_bytes: usize,
    prices: Option<std::collections::BTreeMap<&'static str, String>>,
    run: Option<&RunContext>,
) -> Vec<u8> {
    let r = Request {
        protocol: PROTOCOL,
        source: Some(source),
        filename: Some(filename),
        compat: COMPAT,
        data_path,
        max_position_bytes,
        aliases: crate::score::alias_groups_json(),
        prices,
        run,
        runtime_policy: false,
        allowed_imports: None,
    };
    // Serialising plain strings, numbers and maps cannot fail.
    serde_json::to_vec(&r).unwrap_or_default()
}

/// The two stdin lines of a run: the setup (everything but the strategy),
/// sent at once; the strategy, sent only after the harness's READY frame
/// (its trusted phase is over and the host has tightened the CPU limit).
pub struct Parts {
    pub setup: Vec<u8>,
    pub strategy: Vec<u8>,
}

pub fn request_parts(
    source: &str,
    filename: &str,
    data_path: &str,
    max_position_bytes: usize,
    prices: &crate::score::PriceSpec,
    run: &RunContext,
    policy: &Policy,
) -> Parts {
    parts(source, filename, data_path, max_position_bytes, Some(prices.keys()), run, policy)
}

/// [`request_parts`] where the host has not read the data (a Kubernetes
/// render: the data is in a volume on the cluster): the harness resolves the
/// price columns through the alias table itself.
pub fn request_parts_unpriced(
    source: &str,
    filename: &str,
    data_path: &str,
    max_position_bytes: usize,
    run: &RunContext,
    policy: &Policy,
) -> Parts {
    parts(source, filename, data_path, max_position_bytes, None, run, policy)
}

fn parts(
    source: &str,
    filename: &str,
    data_path: &str,
    max_position_bytes: usize,
    prices: Option<std::collections::BTreeMap<&'static str, String>>,
    run: &RunContext,
    policy: &Policy,
) -> Parts {
    let setup = Request {
        protocol: PROTOCOL,
        source: None,
        filename: None,
        compat: COMPAT,
        data_path,
        max_position_bytes,
        aliases: crate::score::alias_groups_json(),
        prices,
        run: Some(run),
        runtime_policy: policy.on,
        allowed_imports: policy.on.then_some(policy.allowed_imports),
    };
    #[derive(Serialize)]
    struct Strategy<'a> {
        source: &'a str,
        filename: &'a str,
    }
    // JSON escapes newlines: each document is one line. Serialising plain
    // strings, numbers and maps cannot fail.
    let mut setup = serde_json::to_vec(&setup).unwrap_or_default();
    setup.push(b'\n');
    let mut strategy = serde_json::to_vec(&Strategy { source, filename }).unwrap_or_default();
    strategy.push(b'\n');
    Parts { setup, strategy }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct SummaryError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub traceback: String,
}

/// What the harness says happened. Anything else in the frame is refused
/// while parsing, so the host matches an enum, never a string.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SummaryStatus {
    Ok,
    StrategyError,
    InvalidOutput,
    HarnessError,
}

/// The harness's closing summary (frame `R`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Summary {
    pub protocol: u32,
    pub status: SummaryStatus,
    #[serde(default)]
    pub error: Option<SummaryError>,
    #[serde(default)]
    pub versions: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub max_rss_kb: Option<u64>,
    #[serde(default)]
    pub sim_params: Option<std::collections::BTreeMap<String, String>>,
    /// What the runtime policy refused, as the strategy's process reports it
    /// (informational: the rule also stands in the error).
    #[serde(default)]
    pub runtime_policy_refusals: Vec<Refusal>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct Refusal {
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub what: String,
}

impl Summary {
    pub fn parse(bytes: &[u8]) -> Result<Summary, String> {
        let s: Summary = serde_json::from_slice(bytes).map_err(|e| format!("unreadable summary frame: {e}"))?;
        if s.protocol != PROTOCOL {
            return Err(format!("summary speaks protocol {}, expected {PROTOCOL}", s.protocol));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_json_with_protocol_and_source() {
        let r = request("x = 1\n", "s.py", "/data/market", 99);
        let v: serde_json::Value = serde_json::from_slice(&r).expect("json");
        assert_eq!(v["protocol"], 1);
        assert_eq!(v["source"], "x = 1\n");
        assert_eq!(v["data_path"], "/data/market");
        assert_eq!(v["max_position_bytes"], 99);
    }

    #[test]
    fn request_carries_the_alias_table_prices_and_run_context() {
        let r = request("x = 1\n", "s.py", "/data/market", 99);
        let v: serde_json::Value = serde_json::from_slice(&r).expect("json");
        assert!(v["aliases"]["close"].as_array().is_some_and(|a| a.iter().any(|k| k == "price:收盤價")), "{v}");
        let dir = tempfile::tempdir().expect("tmp");
        crate::sample::write_finlab_sample(dir.path(), &crate::sample::SampleSpec { symbols: 3, years: 1 })
            .expect("sample");
        let spec = crate::score::price_spec(dir.path()).expect("spec");
        let run =
            RunContext { start_date: Some("2019-01-02".into()), end_date: None, fee_ratio: 0.002, tax_ratio: 0.003 };
        let v: serde_json::Value =
            serde_json::from_slice(&request_for("", "s.py", "/data/market", 1, &spec, &run)).expect("json");
        assert_eq!(v["prices"]["close"], "price:收盤價");
        assert_eq!(v["prices"]["open"], "price:開盤價");
        assert_eq!(v["prices"]["adj_close"], "etl:adj_close");
        assert_eq!(v["run"]["start_date"], "2019-01-02");
        assert!(v["run"].get("end_date").is_none());
        assert_eq!(v["run"]["fee_ratio"], 0.002);
    }

    #[test]
    fn summary_parses_and_checks_protocol_and_status() {
        let s = Summary::parse(
            br#"{"protocol":1,"status":"strategy_error","error":{"type":"ValueError","message":"m","traceback":"tb"}}"#,
        )
        .expect("ok");
        assert_eq!(s.error.map(|e| e.kind), Some("ValueError".into()));
        assert!(Summary::parse(br#"{"protocol":2,"status":"ok"}"#).is_err());
        assert!(Summary::parse(br#"{"protocol":1,"status":"great_success"}"#).is_err());
        assert!(Summary::parse(b"not json").is_err());
    }

    #[test]
    fn harness_source_declares_the_same_protocol() {
        assert!(SOURCE.contains(&format!("PROTOCOL = {PROTOCOL}\n")));
    }
}
