"""The scoring rules of docs/scoring.md in pandas/numpy, for the benchmark.

Reads the inputs `cargo bench --bench score` wrote (2,000 symbols x 3,700 days,
boolean position, monthly rebalance, 8% stop loss, default costs), scores them
the straightforward pandas way (frames for alignment, resampling and
forward-filling; a loop over days for execution, which is path dependent), and
prints the time and the final equity so the two implementations can be
compared. Run by benches/score.sh inside the sandbox image (pinned pandas).
"""

import sys
import time

import numpy as np
import pandas as pd

SYMBOLS, DAYS = 2000, 3700
FEE, TAX, STOP = 1.425 / 1000, 3 / 1000, 0.08


def load(d):
    dates = pd.to_datetime(np.fromfile(f"{d}/dates.i32", dtype="<i4"), unit="D")
    cols = [f"S{i:04d}" for i in range(SYMBOLS)]
    close = pd.DataFrame(np.fromfile(f"{d}/close.f64", dtype="<f8").reshape(SYMBOLS, DAYS).T, index=dates, columns=cols)
    pos = pd.DataFrame(np.fromfile(f"{d}/position.f64", dtype="<f8").reshape(SYMBOLS, DAYS).T, index=dates, columns=cols)
    return close, pos.astype(bool)


def score(close, position):
    close = close.where(close > 0).ffill()
    position = position.reindex(close.index, method="ffill").fillna(False)
    month = close.index.to_period("M")
    decide = np.r_[month[1:] != month[:-1], True]
    px = close.to_numpy()
    target = position.to_numpy()
    n, m = px.shape
    shares = np.zeros(m)
    entry = np.full(m, np.nan)
    stopped = np.zeros(m, dtype=bool)
    cash = 1.0
    pending = None
    exits = None
    equity = np.empty(n)
    closed = []
    for t in range(n):
        orders = None
        if pending is not None:
            orders, pending, exits = pending, None, None
            stopped[:] = False
        elif exits is not None and exits.any():
            orders = np.where(exits, 0.0, np.nan)
            stopped |= exits
            exits = None
        if orders is not None:
            price = px[t]
            before = cash + np.nansum(shares * price)
            act = ~np.isnan(orders) & np.isfinite(price)
            target_value = np.where(act, orders * before, 0.0)
            current = shares * price
            delta = np.where(act, target_value - current, 0.0)
            cash -= delta.sum() + FEE * np.abs(delta).sum() + TAX * np.clip(-delta, 0, None).sum()
            new = np.where(act, np.divide(target_value, price, out=np.zeros(m), where=act), shares)
            opened = (shares == 0) & (new != 0)
            closing = (shares != 0) & (new == 0) & act
            closed.extend((price[closing] / entry[closing] - 1.0) * np.sign(shares[closing]))
            entry[opened] = price[opened]
            entry[closing] = np.nan
            shares = np.where(np.abs(new) < 1e-15, 0.0, new)
        equity[t] = cash + np.nansum(shares * px[t])
        held = (shares != 0) & np.isfinite(entry) & ~stopped
        moved = (px[t] / entry - 1.0) * np.sign(shares)
        exits = held & (moved <= -STOP)
        if decide[t] and t + 1 < n:
            w = target[t].astype(float)
            k = w.sum()
            pending = w / k if k > 0 else w
    return equity, closed


def main():
    close, position = load(sys.argv[1])
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        equity, closed = score(close, position)
        r = np.diff(equity) / equity[:-1]
        sharpe = r.mean() / r.std(ddof=1) * np.sqrt(252)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"pandas scorer, {SYMBOLS} symbols x {DAYS} days: median {times[1]:.3f} s, min {times[0]:.3f} s (3 runs); "
          f"final equity {equity[-1]:.10f}, trades {len(closed)}, sharpe {sharpe}")


main()
