"""A legitimate but busy strategy: BLAS threads, rolling windows, resampling,
time zones, sorting and grouping. Used to measure the seccomp allow-list and
to prove the profile does not break real work."""

import numpy as np
import pandas as pd


def strategy(data):
    close = data.get("close")
    volume = data.get("volume")
    returns = close.pct_change()
    # BLAS: a covariance matrix and a matrix product run on OpenBLAS threads.
    cov = np.cov(returns.fillna(0).to_numpy().T)
    weights = np.linalg.solve(cov + np.eye(len(cov)) * 1e-3, np.ones(len(cov)))
    big = np.random.default_rng(0).standard_normal((600, 600))
    _ = big @ big.T
    monthly = close.resample("M").last().pct_change()
    zscore = (close - close.rolling(20).mean()) / close.rolling(20).std()
    ranks = zscore.rank(axis=1)
    liquid = volume.rolling(5).mean() > volume.median().median()
    by_month = returns.groupby(returns.index.month).mean()
    stamped = close.index.tz_localize("UTC").tz_convert("Asia/Taipei")
    assert len(stamped) == len(close)
    assert monthly.shape[1] == close.shape[1] and by_month.shape[0] <= 12
    position = (ranks <= 5) & liquid
    tilt = pd.Series(weights, index=close.columns) > 0
    return position & tilt
