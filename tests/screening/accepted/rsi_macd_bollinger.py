"""RSI, MACD and Bollinger bands computed by hand with pandas."""
import pandas as pd


def rsi(close: pd.DataFrame, n: int = 14) -> pd.DataFrame:
    delta = close.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / n, adjust=False).mean()
    return 100 - 100 / (1 + gain / loss)


def macd(close, fast=12, slow=26, signal=9):
    line = close.ewm(span=fast, adjust=False).mean() - close.ewm(span=slow, adjust=False).mean()
    return line, line.ewm(span=signal, adjust=False).mean()


def bollinger(close, n=20, k=2.0):
    mid = close.rolling(n).mean()
    sd = close.rolling(n).std()
    return mid - k * sd, mid, mid + k * sd


def strategy(data):
    close = data.get("close")
    r = rsi(close)
    line, signal = macd(close)
    lower, mid, upper = bollinger(close)
    entries = (r < 30) & (line > signal) & (close < lower)
    exits = (r > 70) | (close > upper)
    held = entries.astype(float).where(entries | exits).ffill().fillna(0)
    return held > 0
