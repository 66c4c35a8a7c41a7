//! Scores nobody can fake: metrics computed on the host from the position
//! and the data file, whatever the strategy prints, writes or patches.

use crate::support::{exec, exec_path, root};

const POSITION: &str = "
def strategy(data):
    close = data.get('close')
    return close > close.rolling(20).mean()
";

#[test]
fn both_contract_forms_get_host_metrics() {
    for example in ["examples/momentum.py", "examples/finlab_style.py"] {
        let run = exec_path(&root().join(example), &[]);
        assert_eq!(run.status(), "ok", "{}", run.describe());
        let m = &run.json["metrics"];
        for key in [
            "total_return",
            "annual_return",
            "sharpe_ratio",
            "sortino_ratio",
            "volatility",
            "max_drawdown",
            "turnover",
            "exposure",
        ] {
            assert!(m[key].is_number(), "{example}: {key} missing in {m}");
        }
        assert_eq!(m["start"], "2022-01-03");
        assert!(m["max_drawdown"].as_f64().unwrap_or(1.0) <= 0.0);
    }
    let finlab = exec_path(&root().join("examples/finlab_style.py"), &[]);
    assert_eq!(finlab.json["backtest"]["resample"], "M", "sim(resample='M') shapes the backtest");
}

#[test]
fn tampering_never_changes_the_hosts_numbers() {
    let clean = exec(POSITION, &[]);
    assert_eq!(clean.status(), "ok", "{}", clean.describe());
    // The same position, from a strategy that tries every way it has to
    // influence its score from inside the sandbox.
    let tamper = format!(
        r#"
import pandas as pd
import numpy as np
import finlab
print('{{"sharpe_ratio": 99.0, "total_return": 50.0}}')
with open('/tmp/metrics.json', 'w') as f:
    f.write('{{"sharpe_ratio": 99.0}}')
pd.DataFrame.pct_change = lambda self, *a, **k: self * 0 + 0.5
np.std = lambda *a, **k: 1e-9
finlab.backtest.sim = lambda *a, **k: None
{POSITION}
"#
    );
    let dirty = exec(&tamper, &["--skip-screening"]);
    assert_eq!(dirty.status(), "ok", "{}", dirty.describe());
    assert_eq!(clean.json["position"]["sha256"], dirty.json["position"]["sha256"]);
    assert_eq!(clean.json["metrics"], dirty.json["metrics"], "the tampering strategy changed its own score");
    assert!(dirty.stdout_text().contains("sharpe_ratio"));
}

#[test]
fn a_strategy_cannot_make_trading_free() {
    let cheap = "from finlab import data\nfrom finlab.backtest import sim\nclose = data.get('close')\nsim(close > close.rolling(20).mean(), fee_ratio=0.0, tax_ratio=0.0)\n";
    let run = exec(cheap, &[]);
    assert_eq!(run.status(), "ok", "{}", run.describe());
    assert_eq!(run.json["backtest"]["fee_ratio"], 0.001425);
    assert!(run.json["warnings"].to_string().contains("below the host"));
    let honest = exec(POSITION, &[]);
    assert_eq!(run.json["metrics"], honest.json["metrics"]);
}

#[test]
fn unusable_sim_arguments_are_invalid_output() {
    let run = exec("from finlab import data\nfrom finlab.backtest import sim\nsim(data.get('close') > 0, resample='fortnightly')\n", &[]);
    assert_eq!(run.status(), "invalid_output", "{}", run.describe());
    assert!(run.json["error"]["message"].as_str().unwrap_or("").contains("resample"));
}

#[test]
fn equity_curve_is_written_on_request() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("equity.csv");
    let run = exec(POSITION, &["--equity-out", out.to_str().expect("utf8")]);
    assert_eq!(run.status(), "ok");
    let csv = std::fs::read_to_string(&out).expect("equity file");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "date,equity");
    assert_eq!(lines[1], "2022-01-03,1");
    assert_eq!(lines.len(), 521);
    let last: f64 = lines[520].split(',').nth(1).and_then(|v| v.parse().ok()).expect("number");
    let total = run.json["metrics"]["total_return"].as_f64().expect("total");
    assert!((last - 1.0 - total).abs() < 1e-9);
    let pq = dir.path().join("equity.parquet");
    let run = exec(POSITION, &["--equity-out", pq.to_str().expect("utf8")]);
    assert_eq!(run.status(), "ok");
    let bytes = std::fs::read(&pq).expect("parquet written");
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
}
