"""Short-term mean reversion: buy the biggest 5-day losers among liquid names."""
import numpy as np
import pandas as pd


def strategy(data):
    close = data.get("close")
    volume = data.get("volume")
    ret5 = close.pct_change(5)
    liquid = volume.rolling(20).mean() > volume.rolling(20).mean().median(axis=1).values[:, None]
    score = (-ret5).where(liquid)
    z = (score - score.mean(axis=1).values[:, None]) / score.std(axis=1).values[:, None]
    z = z.clip(-3, 3).fillna(0)
    weights = z.where(z > 1, 0.0)
    total = weights.sum(axis=1).replace(0, np.nan)
    return weights.div(total, axis=0).fillna(0)
