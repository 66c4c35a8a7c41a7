"""An offline, finlab-compatible strategy API for the sandbox.

Sent in with every run (like the harness) and installed as the modules
`finlab`, `finlab.data`, `finlab.backtest` and `finlab.dataframe`, so that
finlab-style scripts and LLM output written for finlab run unchanged, with no
network and no token. Only the position a strategy produces leaves the
sandbox; metrics are computed by the finsandbox host.

Data: `data.get(key)` returns a FinlabDataFrame (dates x symbols). Keys are a
field of the single long-layout file (`close`), `TABLE:COL` for a directory
of `TABLE.parquet` files, or a member of an alias group. A key resolves
verbatim first, then through the other members of its group, in either
direction (`price:收盤價` finds a `close` column and `close` finds
`price:收盤價`). The alias table is src/harness/aliases.json, the same table
the host reads: the host sends it with every run, and also says which columns
hold the prices (`prices`), so both sides price the same columns.
"""

import contextlib
import difflib
import os
import warnings

import numpy as np
import pandas as pd

# Alias groups (canonical name -> keys), set from the host's request by
# `install`; the unit tests load src/harness/aliases.json themselves.
ALIAS_GROUPS = {}
# Notes for the run summary (the compat layer's warnings: placeholders read,
# no-op calls made). Also sent through `warnings.warn`.
NOTES = []


def note(message):
    """Record a warning for the run summary and emit it on stderr."""
    if message not in NOTES:
        NOTES.append(message)
    warnings.warn(message, stacklevel=3)


def alias_candidates(key):
    """The other keys of every alias group that holds `key`, in table order."""
    out = []
    for members in ALIAS_GROUPS.values():
        if key in members:
            out.extend(m for m in members if m != key and m not in out)
    return out

_BINARY = [
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__floordiv__", "__mod__", "__pow__",
    "__gt__", "__lt__", "__ge__", "__le__", "__eq__", "__ne__",
    "__and__", "__rand__", "__or__", "__ror__", "__xor__",
]


def _reindex(frame, index, columns):
    """finlab's `reindex(index, method="ffill")`: a date the union adds takes
    the value of the frame's own latest earlier date; a value that is
    already NaN (a halted day, a rolling window's warm-up) stays NaN.
    Boolean frames stay boolean (a date before the frame's first row is
    False)."""
    plain = pd.DataFrame(frame)
    plain = plain[~plain.index.duplicated(keep="last")].sort_index()
    boolean = len(plain.columns) > 0 and all(pd.api.types.is_bool_dtype(t) for t in plain.dtypes)
    out = plain.reindex(index=index, method="ffill").reindex(columns=columns)
    if boolean:
        return out.astype(object).where(out.notna(), False).astype(bool)
    return out


def reshape(a, b):
    """finlab's alignment of two operands: a Series is spread over the
    frame's columns (one value per date); two frames go to the union of
    their dates from the later of their first dates, forward-filled as
    `_reindex` says, and the intersection of their symbols."""
    a = pd.DataFrame(a)
    if isinstance(b, pd.Series) and not isinstance(b, pd.DataFrame):
        if b.index.equals(a.index) or isinstance(b.index, pd.DatetimeIndex):
            b = pd.DataFrame({c: b for c in a.columns})
    if not isinstance(b, pd.DataFrame):
        return a, b
    b = pd.DataFrame(b)
    if len(a.index) == 0 or len(b.index) == 0:
        return a, b
    if not (isinstance(a.index, pd.DatetimeIndex) and isinstance(b.index, pd.DatetimeIndex)):
        return a, b
    if a.index.equals(b.index) and a.columns.equals(b.columns):
        return a, b
    index = a.index.union(b.index)
    start = max(a.index.min(), b.index.min())
    index = index[index >= start]
    columns = a.columns.intersection(b.columns, sort=False)
    return _reindex(a, index, columns), _reindex(b, index, columns)


def _aligned(name):
    base = getattr(pd.DataFrame, name)

    def op(self, other):
        left, right = reshape(self, other)
        return FinlabDataFrame(base(left, right))

    op.__name__ = name
    op.__doc__ = (
        f"`{name}` with finlab alignment (see `reshape`): the union of dates from "
        "the later start, only the added dates forward-filled, the intersection of symbols."
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

    def is_entry(self):
        """True on the first day of each run of true values."""
        plain = pd.DataFrame(self).fillna(False).astype(bool)
        return FinlabDataFrame(plain & ~plain.shift(1, fill_value=False))

    def is_exit(self):
        """True on the first day after each run of true values."""
        plain = pd.DataFrame(self).fillna(False).astype(bool)
        return FinlabDataFrame(~plain & plain.shift(1, fill_value=False))

    def quantile_row(self, q):
        """The `q` quantile of each date, as a Series."""
        return pd.DataFrame(self).quantile(q, axis=1)

    def deadline(self, date=None):
        """finlab's `deadline()`: index the frame by the date each report
        period's data must be public, so a signal never uses a figure before
        it could be known. Report periods are labels (`2024-Q1`, `2024-M1`)
        or period-end dates: a frame whose dates are all quarter ends
        (fundamental_features) maps Q1 → May 15, Q2 → Aug 14, Q3 → Nov 14,
        Q4 → Mar 31 of the next year; a frame of month ends (monthly_revenue)
        maps each month to the 10th of the next month. A frame already
        indexed by other dates is returned unchanged.

        `deadline(date)` (an older finsandbox form) keeps the rows on or
        before `date`."""
        plain = pd.DataFrame(self)
        if date is not None:
            return FinlabDataFrame(plain[plain.index <= pd.Timestamp(date)])
        if len(plain.index) == 0:
            return FinlabDataFrame(plain)
        if not isinstance(plain.index, pd.DatetimeIndex):
            return self.index_str_to_date()
        idx = plain.index
        if not idx.is_month_end.all():
            return FinlabDataFrame(plain)
        if idx.month.isin([3, 6, 9, 12]).all():
            mapped = [_quarter_deadline(d.year, (d.month - 1) // 3 + 1) for d in idx]
        else:
            mapped = [_month_deadline(d.year, d.month) for d in idx]
        out = plain.copy()
        out.index = pd.DatetimeIndex(mapped)
        return FinlabDataFrame(out.sort_index())

    def index_str_to_date(self):
        """Turn report-period labels into the dates the data became public:
        `YYYY-Mn` (monthly revenue) → the 10th of the next month; `YYYY-Qn`
        (quarterly statements) → Q1 May 15, Q2 Aug 14, Q3 Nov 14, Q4 Mar 31 of
        the next year. Other labels are parsed as dates."""

        def convert(label):
            s = str(label)
            if "-M" in s:
                y, m = s.split("-M")
                return _month_deadline(int(y), int(m))
            if "-Q" in s:
                y, q = s.split("-Q")
                return _quarter_deadline(int(y), int(q))
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
            price = _reindex(DATA[0].price("close"), index, columns).to_numpy(dtype=float)
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


def _month_deadline(year, month):
    """Monthly revenue of `month` is public by the 10th of the next month."""
    return pd.Timestamp(year + (month == 12), month % 12 + 1, 10)


def _quarter_deadline(year, quarter):
    """Taiwan's statutory deadlines for quarterly statements."""
    return {
        1: pd.Timestamp(year, 5, 15),
        2: pd.Timestamp(year, 8, 14),
        3: pd.Timestamp(year, 11, 14),
        4: pd.Timestamp(year + 1, 3, 31),
    }[quarter]


for _name in _BINARY:
    setattr(FinlabDataFrame, _name, _aligned(_name))

DATA = [None]


class Data:
    """`data.get(key)`, `data.indicator(name, ...)`, `data.universe(...)`.

    `prices` (from the host) maps `close`, `open`, `high`, `low`,
    `adj_close` to the `TABLE:COL` keys that hold them; without it (the unit
    tests) they are resolved through the alias table like any key."""

    def __init__(self, path, prices=None):
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
        self._price_keys = dict(prices or {})
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

    def _verbatim(self, key):
        """`TABLE:COL` as written, or a bare field: the single file, then
        `price`, then every table by name."""
        if ":" in key:
            table, field = key.split(":", 1)
            if field in self._fields.get(table, []):
                return table, field
            return None
        for table in ["", "price"] + sorted(self._fields):
            if key in self._fields.get(table, []):
                return table, key
        return None

    def _resolve(self, key):
        """Verbatim first, then the other members of the key's alias groups."""
        key = str(key)
        found = self._verbatim(key)
        if found is None:
            for other in alias_candidates(key):
                found = self._verbatim(other)
                if found is not None:
                    break
        if found is not None:
            return found
        # Suggest only what this data can answer (its own keys, and the
        # finlab names that resolve to them), never the key asked for.
        aliases = [m for g in ALIAS_GROUPS.values() for m in g]
        answerable = self.keys() + [m for m in aliases if m not in self.keys() and self._answers(m)]
        close = [c for c in difflib.get_close_matches(key, answerable, n=4, cutoff=0.3) if c != key][:3]
        hint = f"; closest: {', '.join(close)}" if close else ""
        known = " (a finlab key, but this data holds no table or column for it)" if key in aliases else ""
        raise KeyError(f"unknown data key {key!r}{known}{hint}; available: {', '.join(self.keys())}")

    def _answers(self, key):
        return self._verbatim(key) is not None or any(self._verbatim(o) is not None for o in alias_candidates(key))

    def get(self, key, *args, **kwargs):
        """One field as a FinlabDataFrame: dates (ascending) x symbols.
        finlab's download options (`save_to_storage`, `force_download`)
        are accepted and mean nothing offline."""
        table, field = self._resolve(key)
        if (table, field) not in self._cache:
            frame = self._frame(table)
            wide = frame.pivot(index="date", columns="symbol", values=field).sort_index()
            wide.columns = wide.columns.astype(str)
            wide.columns.name = None
            wide.index.name = "date"
            self._cache[(table, field)] = wide
        return FinlabDataFrame(self._cache[(table, field)].copy())

    def price(self, name):
        """A price field (`close`, `open`, `high`, `low`, `adj_close`) from the
        columns the host named, else through the alias table."""
        key = self._price_keys.get(name)
        return self.get(key if key else name)

    def _prices(self, adjust=True):
        """Close, high and low from the columns the host prices with;
        `adjust`: the adjusted close, high and low scaled by adj/close."""
        close = self.price("close")
        if not adjust:
            return close, self.price("high"), self.price("low")
        try:
            adj = self.price("adj_close")
        except KeyError:
            return close, self.price("high"), self.price("low")
        factor = pd.DataFrame(adj) / pd.DataFrame(close)
        return (
            adj,
            FinlabDataFrame(pd.DataFrame(self.price("high")) * factor),
            FinlabDataFrame(pd.DataFrame(self.price("low")) * factor),
        )

    def indicator(self, name, adjust_price=False, resample="D", market=None, **kw):
        """Technical indicators, finlab's signature: from the raw prices the
        host named, or with `adjust_price=True` the adjusted ones (as finlab;
        `resample` and `market` are accepted, daily data only):
        RSI (Wilder: ewm alpha=1/n, adjust=False, of clipped changes), SMA
        (rolling mean), EMA (ewm span=n, adjust=False), MACD (EMA fast - EMA
        slow; signal = EMA of MACD; returns macd, signal, hist), BBANDS
        (rolling mean ± k population std; returns upper, middle, lower), ATR
        (Wilder average of the true range), STOCH/KD (RSV over fastk_period;
        K and D smoothed with ewm alpha=1/slowk_period, 1/slowd_period; returns
        k, d), WILLR ((highest high - close) / (highest high - lowest low) × -100)."""
        close, high, low = self._prices(adjust=bool(adjust_price))
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


class _Placeholder:
    """A stand-in for a number only the host computes (`report.metrics`,
    `report.get_...()`): any attribute is another placeholder, a call
    returns NaN, and the first use warns. Nothing read here reaches the
    score: the host scores the position alone."""

    def __init__(self, what):
        self._what = what

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Placeholder(f"{self._what}.{name}")

    def __call__(self, *args, **kwargs):
        note(f"{self._what}() is a placeholder (NaN) inside the sandbox: metrics are computed by the finsandbox host after the run")
        return float("nan")

    def __float__(self):
        return float("nan")

    def __repr__(self):
        return f"<placeholder {self._what}: computed by the finsandbox host after the run>"


class _PlaceholderStats(dict):
    """`report.get_stats()` inside the sandbox: every key reads NaN."""

    def __missing__(self, key):
        return float("nan")


class Report:
    """What `sim(...)` returns inside the sandbox. `display()` and `plot()`
    show nothing; `creturn` is an empty Series and `metrics` a placeholder
    whose calls return NaN, each with a warning: the real numbers are
    computed by the finsandbox host, from the position, after the run."""

    def __init__(self, position=None):
        self.position = position

    def display(self, *args, **kwargs):
        note("report.display() shows nothing inside the sandbox: the finsandbox host reports the metrics after the run")
        return None

    def plot(self, *args, **kwargs):
        return None

    @property
    def creturn(self):
        note("report.creturn is an empty placeholder inside the sandbox: the host computes the equity curve (--equity-out)")
        return pd.Series([], dtype=float, name="placeholder: computed by the finsandbox host")

    @property
    def metrics(self):
        note("report.metrics is a placeholder inside the sandbox: metrics are computed by the finsandbox host after the run")
        return _Placeholder("report.metrics")

    def get_stats(self, *args, **kwargs):
        note("report.get_stats() is a placeholder inside the sandbox (every value NaN): the finsandbox host computes the metrics after the run")
        return _PlaceholderStats()

    def get_trades(self, *args, **kwargs):
        note("report.get_trades() is an empty placeholder inside the sandbox: trades are computed by the finsandbox host")
        return pd.DataFrame()

    def get_metrics(self, *args, **kwargs):
        note("report.get_metrics() is a placeholder inside the sandbox (every value NaN): the finsandbox host computes the metrics after the run")
        return _PlaceholderStats()

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


def _date_list_repr(value):
    """`resample=` given as dates (a list, a DatetimeIndex, a Series): the
    repr of a list of ISO date strings, which the host parses as a literal.
    None when `value` is not a collection of dates."""
    if isinstance(value, (str, bytes)) or value is None:
        return None
    if not isinstance(value, (list, tuple, pd.Index, pd.Series, np.ndarray)):
        return None
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(list(value)))
    except Exception:
        return None
    if dates.hasnans:
        return None
    return repr([d.strftime("%Y-%m-%d") for d in dates.normalize()])


def make_sim(recorder):
    def sim(position, resample=None, **params):
        """Record the position and the parameters for the host, which
        backtests them after the run. Returns a Report."""
        recorder.position = position
        recorded = {k: repr(v) for k, v in params.items()}
        dates = _date_list_repr(resample)
        recorded["resample"] = dates if dates is not None else repr(resample)
        recorder.params = recorded
        recorder.called = True
        return Report(position)

    return sim


def _analysis_module():
    """`from finlab import analysis`: every call does nothing but warn."""
    import types

    module = types.ModuleType("finlab.analysis")

    def noop(name):
        def call(*args, **kwargs):
            note(f"finlab.analysis.{name}(...) does nothing inside the sandbox")
            return None

        return call

    module.__getattr__ = lambda name: noop(name)
    return module


def _default_aliases():
    """The alias table beside this file (when imported from a checkout, as
    the unit tests do); the harness gets it from the host instead."""
    import json

    here = globals().get("__file__")
    if not here:
        return {}
    path = os.path.join(os.path.dirname(os.path.abspath(here)), "aliases.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)["groups"]


def install(data_path, recorder, aliases=None, prices=None):
    """Register `finlab`, `finlab.data`, `finlab.backtest`, `finlab.dataframe`,
    `finlab.analysis`. `aliases` is the host's alias table (groups),
    `prices` the host's price columns."""
    import sys
    import types

    ALIAS_GROUPS.clear()
    ALIAS_GROUPS.update(aliases if aliases is not None else _default_aliases())
    data = Data(data_path, prices)
    sim = make_sim(recorder)
    finlab = types.ModuleType("finlab")
    backtest = types.ModuleType("finlab.backtest")
    dataframe = types.ModuleType("finlab.dataframe")
    analysis = _analysis_module()
    backtest.sim = sim
    dataframe.FinlabDataFrame = FinlabDataFrame
    finlab.data = data
    finlab.backtest = backtest
    finlab.dataframe = dataframe
    finlab.analysis = analysis
    finlab.login = lambda *a, **k: None
    sys.modules["finlab"] = finlab
    sys.modules["finlab.backtest"] = backtest
    sys.modules["finlab.data"] = data
    sys.modules["finlab.dataframe"] = dataframe
    sys.modules["finlab.analysis"] = analysis
    return data


# The host's default costs, used when a request does not carry them.
DEFAULT_FEE_RATIO = 1.425 / 1000
DEFAULT_TAX_RATIO = 3 / 1000


def namespace(data, sim, filename, run=None):
    """The names a strategy starts with, exactly those a finlab strategy
    generator pre-binds: `data`, `sim`, `pd`, `np`, `start_date`,
    `end_date` (ISO date strings: the host's `--start`/`--end`, else the
    price data's first and last date), `fee_ratio`, `tax_ratio` (the host's
    effective costs). Scripts that import these themselves keep working."""
    run = run or {}
    start, end = run.get("start_date"), run.get("end_date")
    if start is None or end is None:
        try:
            dates = data.price("close").index
            start = start or dates.min().strftime("%Y-%m-%d")
            end = end or dates.max().strftime("%Y-%m-%d")
        except (KeyError, ValueError, AttributeError):
            pass
    return {
        "__name__": "__main__",
        "__file__": filename,
        "data": data,
        "sim": sim,
        "pd": pd,
        "np": np,
        "start_date": start,
        "end_date": end,
        "fee_ratio": float(run.get("fee_ratio", DEFAULT_FEE_RATIO)),
        "tax_ratio": float(run.get("tax_ratio", DEFAULT_TAX_RATIO)),
    }


def pick_position(namespace, recorder, data):
    """What the strategy answered: `strategy(data)`'s return, else the
    position last given to `sim(...)`, else a module-level `position`."""
    if callable(namespace.get("strategy")):
        return namespace["strategy"](data)
    if recorder.called:
        return recorder.position
    if "position" in namespace:
        return namespace["position"]
    return None


# Imported from a checkout (the unit tests): the table beside this file.
ALIAS_GROUPS.update(_default_aliases())
