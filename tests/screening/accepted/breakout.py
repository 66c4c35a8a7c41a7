"""Donchian breakout with an ATR volatility filter."""
import pandas as pd


def atr(high, low, close, n=14):
    prev = close.shift(1)
    true_range = pd.concat([(high - low), (high - prev).abs(), (low - prev).abs()]).groupby(level=0).max()
    return true_range.ewm(alpha=1 / n, adjust=False).mean()


def strategy(data):
    high, low, close = data.get("high"), data.get("low"), data.get("close")
    upper = high.rolling(55).max().shift(1)
    lower = low.rolling(20).min().shift(1)
    calm = atr(high, low, close) / close < 0.04
    entry = (close > upper) & calm
    exit_ = close < lower
    state = entry.astype(float).where(entry | exit_).ffill().fillna(0.0)
    return state.astype(bool)
