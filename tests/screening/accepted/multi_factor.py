"""Multi-factor ranking: momentum, low volatility and value-like reversal."""
from dataclasses import dataclass
from typing import Dict

import numpy as np
import pandas as pd


@dataclass
class Factor:
    name: str
    weight: float
    ascending: bool = False


FACTORS = [Factor("momentum", 0.5), Factor("volatility", 0.3, ascending=True), Factor("reversal", 0.2)]


def compute(close: pd.DataFrame) -> Dict[str, pd.DataFrame]:
    returns = close.pct_change()
    return {
        "momentum": close.shift(21) / close.shift(252) - 1,
        "volatility": returns.rolling(60).std() * np.sqrt(252),
        "reversal": -close.pct_change(21),
    }


def strategy(data):
    close = data.get("close")
    factors = compute(close)
    score = sum(f.weight * factors[f.name].rank(axis=1, ascending=f.ascending, pct=True) for f in FACTORS)
    top = score.rank(axis=1, ascending=False) <= 10
    monthly = top.resample("M").last().reindex(close.index, method="ffill")
    print("holding {} names on the last day".format(int(monthly.iloc[-1].sum())))
    return monthly.fillna(False)
