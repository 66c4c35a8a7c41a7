"""Pairs trading on the most correlated pair: long/short the z-scored spread."""
import numpy as np
import pandas as pd


def strategy(data):
    close = data.get("close").ffill()
    # Only symbols priced on every day: a regression needs complete series.
    logp = np.log(close.dropna(axis=1))
    corr = logp.diff().corr()
    np.fill_diagonal(corr.values, np.nan)
    a, b = corr.stack().idxmax()
    beta = np.polyfit(logp[b], logp[a], 1)[0]
    spread = logp[a] - beta * logp[b]
    z = (spread - spread.rolling(60).mean()) / spread.rolling(60).std()
    weights = pd.DataFrame(0.0, index=close.index, columns=close.columns)
    weights.loc[z < -2, a] = 0.5
    weights.loc[z < -2, b] = -0.5
    weights.loc[z > 2, a] = -0.5
    weights.loc[z > 2, b] = 0.5
    return weights
