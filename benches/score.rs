//! Scoring speed: 2,000 symbols × 3,700 trading days, a boolean position
//! rebalanced monthly with an 8% stop loss. `cargo bench --bench score`
//! prints the time and writes the inputs to `target/bench/score/` so that
//! `benches/score_pandas.py` (run by `benches/score.sh`) can score the same
//! inputs with a pandas/numpy implementation of the same rules and compare
//! both the time and the result.

use std::path::Path;
use std::time::Instant;

use finsandbox::position::{Dtype, Position};
use finsandbox::sample::Rng;
use finsandbox::score::{compute, run, Market, Params, Resample};

const SYMBOLS: usize = 2000;
const DAYS: usize = 3700;

fn inputs() -> (Market, Position) {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    // Business days from 2010-01-04 (day 14613, a Monday).
    let mut dates = Vec::with_capacity(DAYS);
    let mut d: i32 = 14_613;
    while dates.len() < DAYS {
        if (d - 4).rem_euclid(7) < 5 {
            dates.push(d);
        }
        d += 1;
    }
    let mut close = vec![0.0; SYMBOLS * DAYS];
    let mut held = vec![0.0; SYMBOLS * DAYS];
    for s in 0..SYMBOLS {
        let mut p = 20.0 + 80.0 * rng.uniform();
        for t in 0..DAYS {
            p *= 1.0 + (rng.uniform() - 0.5) * 0.04;
            close[s * DAYS + t] = (p * 100.0).round() / 100.0;
            // Hold roughly 5% of the universe, changing now and then.
            held[s * DAYS + t] = if rng.uniform() < 0.05 { 1.0 } else { 0.0 };
        }
    }
    let symbols: Vec<String> = (0..SYMBOLS).map(|i| format!("S{i:04}")).collect();
    let market = Market { dates: dates.clone(), symbols: symbols.clone(), close, open: None, adj_close: None };
    let position = Position { dates, symbols, values: held, dtype: Dtype::Bool };
    (market, position)
}

fn write(dir: &Path, m: &Market, p: &Position) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let f64s = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::write(dir.join("dates.i32"), m.dates.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
        .expect("w");
    std::fs::write(dir.join("close.f64"), f64s(&m.close)).expect("w");
    std::fs::write(dir.join("position.f64"), f64s(&p.values)).expect("w");
}

fn main() {
    let (market, position) = inputs();
    write(&Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/score"), &market, &position);
    let params = Params { resample: Some(Resample::Month), stop_loss: Some(0.08), ..Params::default() };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let outcome = run(&market, &position, &params).expect("scores");
        let mut w = Vec::new();
        let metrics = compute(&outcome, &mut w);
        times.push(t.elapsed().as_secs_f64());
        last = Some((outcome, metrics));
    }
    times.sort_by(f64::total_cmp);
    let (outcome, metrics) = last.expect("ran");
    println!(
        "rust scorer, {SYMBOLS} symbols x {DAYS} days: median {:.3} s, min {:.3} s (5 runs); final equity {:.10}, trades {}, sharpe {:?}",
        times[2],
        times[0],
        outcome.equity.last().copied().unwrap_or(f64::NAN),
        metrics.trades,
        metrics.sharpe_ratio
    );
}
