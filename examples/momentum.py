"""Cross-sectional momentum, function form.

Each day, hold (equal weight) the 10 symbols with the best 60-day return,
among those trading above their 20-day average.
"""

import pandas as pd


def strategy(data):
    close = data.get("close")
    momentum = close / close.shift(60) - 1
    trend = close > close.rolling(20).mean()
    ranked = momentum.where(trend).rank(axis=1, ascending=False)
    position = ranked <= 10
    print(f"momentum: {int(position.sum(axis=1).iloc[-1])} holdings on the last day")
    return position
