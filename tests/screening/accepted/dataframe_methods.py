"""Everyday pandas, re and string formatting that screening must let through."""
import re
import json
import math
import statistics
from collections import defaultdict, OrderedDict
from datetime import datetime, timedelta
from functools import reduce
from itertools import combinations

import numpy as np
import pandas as pd

TICKER = re.compile(r"^[A-Z]\d{3}$")


class Book:
    """A strategy's own object whose methods happen to be called open/compile."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.trades = []

    def __repr__(self):
        return "Book({!r})".format(self.name)

    def __len__(self):
        return len(self.trades)

    def open(self, symbol):
        self.trades.append(symbol)

    def compile(self):
        return json.dumps(self.trades)


def strategy(data):
    close = data.get("close")
    returns = close.pct_change().shift(1)
    ranks = returns.rolling(10).mean().rank(axis=1)
    capped = returns.where(returns.abs() < 0.2).clip(-0.1, 0.1)
    by_weekday = capped.groupby(capped.index.dayofweek).mean()
    weekly = close.resample("W-FRI").last()
    long = close.stack().rename("close").reset_index()
    long.columns = ["date", "symbol", "close"]
    wide = long.pivot(index="date", columns="symbol", values="close")
    events = pd.DataFrame({"date": close.index[::20], "flag": 1})
    merged = pd.merge_asof(long.sort_values("date"), events, on="date")
    stats = defaultdict(list)
    for a, b in combinations(list(close.columns[:3]), 2):
        stats[f"{a}-{b}"].append(float(np.corrcoef(close[a], close[b])[0, 1]))
    book = Book("demo")
    for sym in close.columns:
        if TICKER.match(sym):
            book.open(sym)
    summary = OrderedDict(n=len(book), mean=statistics.mean([1.0, 2.0]), e=math.e)
    start = datetime(2022, 1, 1) + timedelta(days=1)
    total = reduce(lambda x, y: x + y, [1, 2, 3])
    message = "{} names, {:.2f} mean, from {:%Y-%m-%d}".format(summary["n"], summary["mean"], start)
    assert total == 6 and message and book.compile() and len(by_weekday) and len(weekly) and len(wide) and len(merged)
    return ranks > ranks.median(axis=1).values[:, None]


if __name__ == "__main__":
    print("run me with finsandbox")
