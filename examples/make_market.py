"""Writes examples/market.parquet: a small, deterministic synthetic market.

Long layout (one row per date and symbol): date, symbol, open, high, low,
close, volume. 40 symbols over 2 years of business days, geometric random
walks from a fixed seed, so the file is the same on every machine with the
image's pinned numpy/pandas/pyarrow.

Regenerate inside the sandbox image (nothing needs to be installed on the host):
    docker run --rm -i --network none -v "$PWD/examples:/out" -w /out \
        finsandbox-runtime:1 python3 - < examples/make_market.py
"""

import numpy as np
import pandas as pd

rng = np.random.RandomState(20240101)
dates = pd.bdate_range("2022-01-03", periods=520)
symbols = [f"S{i:03d}" for i in range(40)]
frames = []
for i, sym in enumerate(symbols):
    drift = rng.uniform(-0.0002, 0.0008)
    vol = rng.uniform(0.01, 0.03)
    rets = rng.normal(drift, vol, len(dates))
    close = 50.0 * np.exp(np.cumsum(rets))
    open_ = close * np.exp(rng.normal(0, vol / 3, len(dates)))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, len(dates))))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, len(dates))))
    volume = rng.randint(1_000, 1_000_000, len(dates)).astype("int64")
    frames.append(pd.DataFrame({
        "date": dates, "symbol": sym,
        "open": open_.round(4), "high": high.round(4), "low": low.round(4),
        "close": close.round(4), "volume": volume,
    }))
market = pd.concat(frames, ignore_index=True).sort_values(["date", "symbol"], ignore_index=True)
market.to_parquet("market.parquet", index=False, compression="snappy")
print(f"wrote market.parquet: {len(market)} rows, {len(symbols)} symbols, {len(dates)} days")
