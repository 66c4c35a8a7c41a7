"""MACD and KD indicators as small classes: `signal`, `code` and `select` are
trading vocabulary here, not modules, and the classes keep private caches."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import pandas as pd


class MACD:
    """Fast/slow EMA difference and its signal line."""

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9):
        self.fast = fast
        self.slow = slow
        self.signal = signal
        self._cache: Dict[str, pd.DataFrame] = {}

    def _ema(self, frame: "pd.DataFrame", span: int) -> "pd.DataFrame":
        return frame.ewm(span=span, adjust=False).mean()

    def line(self, close: pd.DataFrame) -> pd.DataFrame:
        if "line" not in self._cache:
            self._cache["line"] = self._ema(close, self.fast) - self._ema(close, self.slow)
        return self._cache["line"]

    def signal_line(self, close: pd.DataFrame) -> pd.DataFrame:
        return self._ema(self.line(close), self.signal)

    def histogram(self, close: pd.DataFrame) -> pd.DataFrame:
        return self.line(close) - self.signal_line(close)


@dataclass
class Universe:
    codes: List[str] = field(default_factory=list)
    select: Optional[int] = None
    _seen: int = 0

    def take(self, frame: pd.DataFrame) -> pd.DataFrame:
        self._seen += 1
        cols = [c for c in frame.columns if not self.codes or c in self.codes]
        return frame[cols] if self.select is None else frame[cols].iloc[:, : self.select]


def stochastic(close: pd.DataFrame, n: int = 9) -> "Optional[pd.DataFrame]":
    low = close.rolling(n).min()
    high = close.rolling(n).max()
    return (close - low) / (high - low).replace(0, np.nan) * 100


def strategy(data):
    close = Universe().take(data.get("close"))
    macd = MACD(signal=9)
    hist = macd.histogram(close)
    k = stochastic(close)
    frame = pd.DataFrame({"signal": hist.iloc[:, 0], "code": close.columns[0]})
    crossed = frame.signal > frame.signal.shift(1)
    summary = hist.tail(3).agg(["mean", "std"]).round(3)
    print(summary.to_string())
    print("crossings: {}".format(int(crossed.sum())))
    return (hist > 0) & (hist.shift(1) <= 0) & (k < 80)
