"""An offline, finlab-compatible strategy API for the sandbox.

Sent in with every run (like the harness) and installed as the modules
`finlab`, `finlab.data`, `finlab.backtest` and `finlab.dataframe`, so that
finlab-style scripts and LLM output written for finlab run unchanged, with no
network and no token. Only the position a strategy produces leaves the
sandbox; metrics are computed by the finsandbox host.

Data: `data.get(key)` returns a FinlabDataFrame (dates x symbols). Keys are a
field of the single long-layout file (`close`), `TABLE:COL` for a directory
of `TABLE.parquet` files, or one of the finlab aliases in ALIASES.
"""

import contextlib
import difflib
import os
import warnings

import numpy as np
import pandas as pd

ALIASES = {
    "price:收盤價": "close",
    "price:開盤價": "open",
    "price:最高價": "high",
    "price:最低價": "low",
    "price:成交股數": "volume",
    "etl:adj_close": "adj_close",
}

_BINARY = [
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__floordiv__", "__mod__", "__pow__",
    "__gt__", "__lt__", "__ge__", "__le__", "__eq__", "__ne__",
    "__and__", "__rand__", "__or__", "__ror__", "__xor__",
]


def _reindex(frame, index, columns):
    """Reindex to the union of dates, forward-filled (a month-end value holds
    until the next one); boolean frames stay boolean."""
    plain = pd.DataFrame(frame)
    boolean = len(plain.columns) > 0 and all(pd.api.types.is_bool_dtype(t) for t in plain.dtypes)
    if boolean:
        # Through floats: NaN from reindexing must not turn the frame into objects.
        out = plain.astype(float).reindex(columns=columns).reindex(index=index).ffill()
        return out.fillna(0.0) > 0.5
    return plain.reindex(columns=columns).reindex(index=index).ffill()


def _aligned(name):
    base = getattr(pd.DataFrame, name)

    def op(self, other):
        if isinstance(other, pd.DataFrame):
            index = self.index.union(other.index)
            columns = self.columns.intersection(other.columns, sort=False)
            result = base(_reindex(self, index, columns), _reindex(other, index, columns))
        else:
            result = base(pd.DataFrame(self), other)
        return FinlabDataFrame(result)

    op.__name__ = name
    op.__doc__ = (
        f"`{name}` with finlab alignment: against another frame, both are first "
        "reindexed to the union of their dates (forward-filled) and the "
        "intersection of their symbols."
    )
    return op


class FinlabDataFrame(pd.DataFrame):
    """A DataFrame (dates x symbols) with finlab's helpers and alignment rules."""

    @property
    def _constructor(self):
        return FinlabDataFrame

    def average(self, n):
        """Rolling mean over `n` rows, needing at least `n // 2` values."""
        return FinlabDataFrame(pd.DataFrame(self).rolling(n, min_periods=n // 2).mean())

    def is_largest(self, n):
        """True for the `n` largest values of each date (ties by column order)."""
        ranks = pd.DataFrame(self).rank(axis=1, ascending=False, method="first")
        return FinlabDataFrame(ranks <= n)

    def is_smallest(self, n):
        """True for the `n` smallest values of each date (ties by column order)."""
        ranks = pd.DataFrame(self).rank(axis=1, ascending=True, method="first")
        return FinlabDataFrame(ranks <= n)

    def rise(self, n=1):
        """`x > x.shift(n)`."""
        plain = pd.DataFrame(self)
        return FinlabDataFrame(plain > plain.shift(n))

    def fall(self, n=1):
        """`x < x.shift(n)`."""
        plain = pd.DataFrame(self)
        return FinlabDataFrame(plain < plain.shift(n))

    def sustain(self, nwindow, nsatisfy=None):
        """True where at least `nsatisfy` (default `nwindow`) of the last
        `nwindow` rows are true."""
        need = nwindow if nsatisfy is None else nsatisfy
        counts = pd.DataFrame(self).astype(float).rolling(nwindow).sum()
        return FinlabDataFrame(counts >= need)

    def quantile_row(self, q):
        """The `q` quantile of each date, as a Series."""
        return pd.DataFrame(self).quantile(q, axis=1)

    def deadline(self, date):
        """Only the rows on or before `date`."""
        plain = pd.DataFrame(self)
        return FinlabDataFrame(plain[plain.index <= pd.Timestamp(date)])

    def index_str_to_date(self):
        """Turn report-period labels into the dates the data became public:
        `YYYY-Mn` (monthly revenue) → the 10th of the next month; `YYYY-Qn`
        (quarterly statements) → Q1 May 15, Q2 Aug 14, Q3 Nov 14, Q4 Mar 31 of
        the next year. Other labels are parsed as dates."""

        def convert(label):
            s = str(label)
            if "-M" in s:
                y, m = s.split("-M")
                return pd.Timestamp(int(y), int(m), 1) + pd.offsets.MonthBegin(1) + pd.Timedelta(days=9)
            if "-Q" in s:
                y, q = s.split("-Q")
                y, q = int(y), int(q)
                return {1: pd.Timestamp(y, 5, 15), 2: pd.Timestamp(y, 8, 14), 3: pd.Timestamp(y, 11, 14), 4: pd.Timestamp(y + 1, 3, 31)}[q]
            return pd.Timestamp(s)

        plain = pd.DataFrame(self).copy()
        plain.index = pd.DatetimeIndex([convert(i) for i in plain.index])
        return FinlabDataFrame(plain.sort_index())

    def hold_until(self, exit, nstocks_limit=None, stop_loss=None, take_profit=None, rank=None):
        """True from an entry (this frame true) until `exit` is true. With
        `nstocks_limit`, at most that many are held, new entries taken in
        order of `rank` (highest first). `stop_loss` / `take_profit` (fractions)
        also end a holding, judged on the dataset's close."""
        index = self.index.union(exit.index) if isinstance(exit, pd.DataFrame) else self.index
        columns = self.columns.intersection(exit.columns, sort=False) if isinstance(exit, pd.DataFrame) else self.columns
        entry = _reindex(pd.DataFrame(self).astype(bool), index, columns).to_numpy()
        leave = _reindex(pd.DataFrame(exit).astype(bool), index, columns).to_numpy()
        score = None
        if rank is not None:
            score = _reindex(pd.DataFrame(rank), index, columns).to_numpy(dtype=float)
        price = None
        if stop_loss is not None or take_profit is not None:
            price = _reindex(DATA[0].get("close"), index, columns).to_numpy(dtype=float)
        held = np.zeros(len(columns), dtype=bool)
        cost = np.full(len(columns), np.nan)
        out = np.zeros(entry.shape, dtype=bool)
        for t in range(len(index)):
            held &= ~leave[t]
            if price is not None:
                moved = price[t] / cost - 1.0
                if stop_loss is not None:
                    held &= ~(moved <= -stop_loss)
                if take_profit is not None:
                    held &= ~(moved >= take_profit)
            candidates = np.flatnonzero(entry[t] & ~held & ~leave[t])
            if score is not None and len(candidates):
                candidates = candidates[np.argsort(-np.nan_to_num(score[t][candidates], nan=-np.inf), kind="stable")]
            for j in candidates:
                if nstocks_limit is not None and held.sum() >= nstocks_limit:
                    break
                held[j] = True
                if price is not None:
                    cost[j] = price[t][j]
            out[t] = held
        return FinlabDataFrame(pd.DataFrame(out, index=index, columns=columns))


for _name in _BINARY:
    setattr(FinlabDataFrame, _name, _aligned(_name))

DATA = [None]


class Data:
    """`data.get(key)`, `data.indicator(name, ...)`, `data.universe(...)`."""

    def __init__(self, path):
        import pyarrow.parquet as pq

        self._tables = {}
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith(".parquet"):
                    self._tables[name[: -len(".parquet")]] = os.path.join(path, name)
        else:
            self._tables[""] = path
        self._frames = {}
        self._cache = {}
        self._fields = {}
        for table, file in self._tables.items():
            names = pq.read_schema(file).names
            self._fields[table] = [c for c in names if c not in ("date", "symbol")]
        DATA[0] = self

    def _frame(self, table):
        if table not in self._frames:
            import pyarrow.parquet as pq

            frame = pq.read_table(self._tables[table]).to_pandas()
            frame["date"] = pd.to_datetime(frame["date"])
            self._frames[table] = frame
        return self._frames[table]

    def keys(self):
        out = []
        for table, fields in self._fields.items():
            out.extend(fields if table == "" else [f"{table}:{f}" for f in fields])
        return out

    def fields(self):
        return self.keys()

    def _price_table(self):
        for table in ["", "price"] + sorted(self._fields):
            if table in self._fields and ("close" in self._fields[table] or "adj_close" in self._fields[table]):
                return table
        return None

    def _resolve(self, key):
        key = str(key)
        if key in ALIASES:
            key = ALIASES[key]
        if ":" in key:
            table, field = key.split(":", 1)
            if field in self._fields.get(table, []):
                return table, field
        else:
            price = self._price_table()
            if price is not None and key in self._fields[price]:
                return price, key
            for table, fields in self._fields.items():
                if key in fields:
                    return table, key
        known = self.keys() + list(ALIASES)
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.3)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise KeyError(f"unknown data key {key!r}{hint}; available: {', '.join(self.keys())}")

    def get(self, key):
        """One field as a FinlabDataFrame: dates (ascending) x symbols."""
        table, field = self._resolve(key)
        if (table, field) not in self._cache:
            frame = self._frame(table)
            wide = frame.pivot(index="date", columns="symbol", values=field).sort_index()
            wide.columns = wide.columns.astype(str)
            wide.columns.name = None
            wide.index.name = "date"
            self._cache[(table, field)] = wide
        return FinlabDataFrame(self._cache[(table, field)].copy())

    def _prices(self):
        """Adjusted close, high and low (high and low scaled by adj/close)."""
        close = self.get("close")
        try:
            adj = self.get("adj_close")
        except KeyError:
            return close, self.get("high"), self.get("low")
        factor = pd.DataFrame(adj) / pd.DataFrame(close)
        return adj, FinlabDataFrame(pd.DataFrame(self.get("high")) * factor), FinlabDataFrame(pd.DataFrame(self.get("low")) * factor)

    def indicator(self, name, **kw):
        """Technical indicators from the dataset's (adjusted) prices:
        RSI (Wilder: ewm alpha=1/n, adjust=False, of clipped changes), SMA
        (rolling mean), EMA (ewm span=n, adjust=False), MACD (EMA fast - EMA
        slow; signal = EMA of MACD; returns macd, signal, hist), BBANDS
        (rolling mean ± k population std; returns upper, middle, lower), ATR
        (Wilder average of the true range), STOCH/KD (RSV over fastk_period;
        K and D smoothed with ewm alpha=1/slowk_period, 1/slowd_period; returns
        k, d), WILLR ((highest high - close) / (highest high - lowest low) × -100)."""
        close, high, low = self._prices()
        c, h, l = pd.DataFrame(close), pd.DataFrame(high), pd.DataFrame(low)
        name = name.upper()
        wrap = FinlabDataFrame
        if name == "RSI":
            n = kw.get("timeperiod", 14)
            d = c.diff()
            up = d.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
            down = (-d.clip(upper=0)).ewm(alpha=1 / n, adjust=False).mean()
            return wrap(100 - 100 / (1 + up / down))
        if name == "SMA":
            return wrap(c.rolling(kw.get("timeperiod", 30)).mean())
        if name == "EMA":
            return wrap(c.ewm(span=kw.get("timeperiod", 30), adjust=False).mean())
        if name == "MACD":
            fast = c.ewm(span=kw.get("fastperiod", 12), adjust=False).mean()
            slow = c.ewm(span=kw.get("slowperiod", 26), adjust=False).mean()
            macd = fast - slow
            signal = macd.ewm(span=kw.get("signalperiod", 9), adjust=False).mean()
            return wrap(macd), wrap(signal), wrap(macd - signal)
        if name == "BBANDS":
            n = kw.get("timeperiod", 5)
            mid = c.rolling(n).mean()
            sd = c.rolling(n).std(ddof=0)
            return wrap(mid + kw.get("nbdevup", 2) * sd), wrap(mid), wrap(mid - kw.get("nbdevdn", 2) * sd)
        if name == "ATR":
            n = kw.get("timeperiod", 14)
            prev = c.shift(1)
            tr = np.maximum(h - l, np.maximum((h - prev).abs(), (l - prev).abs()))
            return wrap(pd.DataFrame(tr).ewm(alpha=1 / n, adjust=False).mean())
        if name in ("STOCH", "KD"):
            n = kw.get("fastk_period", 9)
            lowest, highest = l.rolling(n).min(), h.rolling(n).max()
            rsv = (c - lowest) / (highest - lowest) * 100
            k = rsv.ewm(alpha=1 / kw.get("slowk_period", 3), adjust=False).mean()
            dline = k.ewm(alpha=1 / kw.get("slowd_period", 3), adjust=False).mean()
            return wrap(k), wrap(dline)
        if name == "WILLR":
            n = kw.get("timeperiod", 14)
            highest, lowest = h.rolling(n).max(), l.rolling(n).min()
            return wrap((highest - c) / (highest - lowest) * -100)
        raise KeyError(f"unknown indicator {name!r}: RSI, SMA, EMA, MACD, BBANDS, ATR, STOCH (KD), WILLR")

    @contextlib.contextmanager
    def universe(self, *args, **kwargs):
        """Accepted for compatibility. The dataset has no market categories,
        so every symbol stays in the universe (a warning says so)."""
        warnings.warn("data.universe(...): this dataset has no market categories; the universe is unchanged")
        yield self


class Report:
    """What `sim(...)` returns inside the sandbox: display and plot do
    nothing; metrics are computed by the finsandbox host after the run."""

    def display(self, *args, **kwargs):
        return None

    def plot(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        raise AttributeError(
            f"report.{name}: metrics are computed by the finsandbox host after the run, "
            "from the position; they are not available inside the sandbox"
        )


class Recorder:
    def __init__(self):
        self.position = None
        self.params = {}
        self.called = False


def make_sim(recorder):
    def sim(position, **params):
        """Record the position and the parameters for the host, which
        backtests them after the run. Returns a Report."""
        recorder.position = position
        recorder.params = {k: repr(v) for k, v in params.items()}
        recorder.called = True
        return Report()

    return sim


def install(data_path, recorder):
    """Register `finlab`, `finlab.data`, `finlab.backtest`, `finlab.dataframe`."""
    import sys
    import types

    data = Data(data_path)
    sim = make_sim(recorder)
    finlab = types.ModuleType("finlab")
    backtest = types.ModuleType("finlab.backtest")
    dataframe = types.ModuleType("finlab.dataframe")
    backtest.sim = sim
    dataframe.FinlabDataFrame = FinlabDataFrame
    finlab.data = data
    finlab.backtest = backtest
    finlab.dataframe = dataframe
    finlab.login = lambda *a, **k: None
    sys.modules["finlab"] = finlab
    sys.modules["finlab.backtest"] = backtest
    sys.modules["finlab.data"] = data
    sys.modules["finlab.dataframe"] = dataframe
    return data
