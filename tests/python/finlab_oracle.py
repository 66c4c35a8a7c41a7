"""An independent oracle of docs/scoring.md, in pandas, for the finlab corpus.

It follows the written rules, not the Rust code: the test that uses it
(tests/integration/finlab.rs) fails when the host's metrics and these differ
by more than 1e-9, so a rule the host implements differently from what the
document says shows up as a difference.

Run inside the sandbox image (pinned pandas), with the compat layer mounted:
    docker run --rm --network none -v $PWD/src/harness:/h:ro -v $PWD/tests:/t:ro \
        -v DATA:/data:ro finsandbox-runtime:1 python3 /t/python/finlab_oracle.py /data /t/finlab

Prints one JSON object: script name -> {"metrics": {...}, "position": {...}}
or {"error": "..."}.

The positions come from running each script with the compat layer the way
the harness does (the same pre-bound names, the same choice of answer), with
no sandbox around it: this is a test of scoring, not of isolation.
"""

import ast
import json
import math
import os
import sys
import traceback
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.environ.get("COMPAT_DIR", "/h"))
import finlab_compat as fc  # noqa: E402

FEE = 1.425 / 1000
TAX = 3 / 1000
MIN_WINDOW = 60


# --- the position, as the harness would return it ---------------------------------

def run_script(path, data_dir):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    rec = fc.Recorder()
    fc.NOTES.clear()
    data = fc.install(data_dir, rec)
    sim = sys.modules["finlab.backtest"].sim
    ns = fc.namespace(data, sim, os.path.basename(path))
    import contextlib
    import io

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        exec(compile(source, os.path.basename(path), "exec"), ns)
        position = fc.pick_position(ns, rec, data)
    if position is None:
        raise RuntimeError("no position")
    return normalise(position), (rec.params if rec.called else {})


def normalise(position):
    """What the harness sends: dates (normalised, sorted), string symbols,
    booleans when every column is boolean, else floats with NaN."""
    frame = pd.DataFrame(position)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index)).normalize()
    frame.columns = [str(c) for c in frame.columns]
    is_bool = len(frame.columns) > 0 and all(pd.api.types.is_bool_dtype(t) for t in frame.dtypes)
    values = frame.astype(float)
    return values.sort_index(), is_bool


# --- docs/scoring.md ---------------------------------------------------------------

def read_wide(data_dir, table, column):
    path = os.path.join(data_dir, f"{table}.parquet")
    if not os.path.exists(path):
        return None
    long = pd.read_parquet(path, columns=["date", "symbol", column])
    long["date"] = pd.to_datetime(long["date"])
    return long.pivot(index="date", columns="symbol", values=column).sort_index()


def parse_params(params):
    """sim()'s recorded keyword arguments (reprs) → the backtest's parameters.
    Costs: the host's are floors."""
    p = {"resample": None, "dates": None, "stop_loss": None, "take_profit": None,
         "position_limit": 1.0, "fee": FEE, "tax": TAX, "open": False}
    for key, text in params.items():
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            continue
        if key == "resample":
            if isinstance(value, list):
                p["dates"] = sorted(set(pd.Timestamp(v) for v in value))
            elif value is not None:
                p["resample"] = value
        elif key in ("stop_loss", "take_profit") and value is not None:
            p[key] = float(value)
        elif key == "position_limit":
            p["position_limit"] = float(value)
        elif key == "trade_at_price":
            p["open"] = value == "open"
        elif key == "fee_ratio":
            p["fee"] = max(FEE, float(value))
        elif key == "tax_ratio":
            p["tax"] = max(TAX, float(value))
    return p


def period_freq(rule):
    """A pandas resample alias → the pandas Period frequency with the same
    period ends (rule 3: pandas' own periods decide)."""
    up = rule.upper()
    head, _, anchor = up.partition("-")
    if head in ("ME", "BME", "BM", "MS", "BMS"):
        return "M"
    if head in ("QE", "BQ", "BQE"):
        head = "Q"
    if head in ("YE", "A", "BA", "BY", "BYE"):
        head = "Y"
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    if head in ("QS", "BQS", "YS", "AS", "BAS", "BYS"):
        start = months.index(anchor) if anchor else 0
        end = months[(start - 1) % 12]
        return ("Q-" if head in ("QS", "BQS") else "Y-") + end
    return head + ("-" + anchor if anchor else "")


def backtest(data_dir, position, is_bool, p):
    close = read_wide(data_dir, "price", "收盤價")
    adj = read_wide(data_dir, "etl", "adj_close")
    days = close.index
    symbols = close.columns
    # Rule 1: adj_close if present, else close; open scaled by adj/close;
    # a missing (or non-positive) price carries the last one forward.
    adj = adj.reindex(index=days, columns=symbols) if adj is not None else None
    price = adj if adj is not None else close
    if p["open"]:
        opened = read_wide(data_dir, "price", "開盤價").reindex(index=days, columns=symbols)
        trade = opened * adj / close if adj is not None else opened
    else:
        trade = price
    price = price.where(price > 0).ffill().to_numpy()
    trade = trade.where(trade > 0).ffill().to_numpy()

    # Rule 2: the latest position row on or before each trading day; symbols
    # without prices dropped; missing values 0.
    cols = [c for c in position.columns if c in set(symbols)]
    ix = {s: i for i, s in enumerate(symbols)}
    first = position.index[0]
    aligned = position[cols].reindex(days, method="ffill")
    has_row = np.asarray(days >= first)
    start = int(np.argmax(has_row))
    if not has_row.any():
        raise RuntimeError("position starts after the data")
    values = aligned.fillna(0.0).to_numpy()

    def weights(t):
        row = values[t]
        nz = [(ix[cols[j]], row[j]) for j in range(len(cols)) if row[j] != 0]
        if is_bool:
            w = [(i, 1.0 / len(nz)) for i, _ in nz]
        else:
            gross = sum(abs(v) for _, v in nz)
            scale = 1.0 / gross if gross > 1 else 1.0
            w = [(i, v * scale) for i, v in nz]
        lim = p["position_limit"]
        return [(i, min(max(v, -lim), lim)) for i, v in w]

    n = len(days)
    # Rule 3: which closes decide a rebalance.
    decides = np.zeros(n, dtype=bool)
    if p["dates"] is not None:
        for d in p["dates"]:
            k = days.searchsorted(d, side="right") - 1  # last trading day on or before d
            if k >= start:
                decides[k] = True
    elif p["resample"] is not None:
        periods = pd.DatetimeIndex(days).to_period(period_freq(p["resample"]))
        for t in range(start, n):
            decides[t] = t + 1 >= n or periods[t] != periods[t + 1]
    else:
        prev = None
        for t in range(start, n):
            w = dict(weights(t))
            decides[t] = t == start or w != prev
            prev = w

    shares = {}
    entry = {}
    cash = 1.0
    pending = None
    exits = []
    ruined = False
    equity, invested, closed = [], [], []
    traded_fraction = 0.0
    for t in range(start, n):
        # Rule 5: yesterday's decision trades today; a rebalance beats stop exits.
        orders = []
        if pending is not None:
            target = dict(pending)
            orders = [(i, 0.0) for i in list(shares) if i not in target] + list(pending)
        elif exits:
            orders = [(i, 0.0) for i in exits]
        pending, exits = None, []
        if orders:
            before = cash + sum(s * trade[t, i] for i, s in shares.items())
            traded = 0.0
            for i, w in orders:
                px = trade[t, i]
                if not np.isfinite(px):
                    continue
                target_value = w * before
                held = shares.get(i, 0.0)
                delta = target_value - held * px
                if abs(delta) < 1e-12:
                    continue
                cash -= delta + p["fee"] * abs(delta) + p["tax"] * max(-delta, 0.0)
                traded += abs(delta)
                new = 0.0 if abs(target_value / px) < 1e-15 else target_value / px
                if held == 0 and new != 0:
                    entry[i] = px
                elif new == 0 and held != 0:
                    closed.append((px / entry[i] - 1.0) * math.copysign(1.0, held))
                if new == 0:
                    shares.pop(i, None)
                    entry.pop(i, None)
                else:
                    shares[i] = new
            if before > 0:
                traded_fraction += traded / before
        value = cash + sum(s * price[t, i] for i, s in shares.items())
        # Rule 7: ruin is final.
        if ruined or value <= 0:
            ruined, value, cash, shares, entry = True, 0.0, 0.0, {}, {}
        equity.append(value)
        invested.append(bool(shares))
        # Rule 6: stops judged at this close, sold at the next trade.
        if p["stop_loss"] is not None or p["take_profit"] is not None:
            for i, s in shares.items():
                moved = (price[t, i] / entry[i] - 1.0) * math.copysign(1.0, s)
                if (p["stop_loss"] is not None and moved <= -p["stop_loss"]) or (
                        p["take_profit"] is not None and moved >= p["take_profit"]):
                    exits.append(i)
        if decides[t] and t + 1 < n and not ruined:
            pending = weights(t)
    return days[start:], np.array(equity), invested, closed, traded_fraction


def metrics(dates, equity, invested, closed, traded_fraction):
    n = len(equity)
    days = int((dates[-1] - dates[0]).days)
    years = days / 365.25
    prev = equity[:-1]
    r = np.where(prev == 0, 0.0, equity[1:] / np.where(prev == 0, 1.0, prev) - 1.0)
    mean = r.mean() if len(r) else float("nan")
    std = r.std(ddof=1) if len(r) > 1 else float("nan")
    down = math.sqrt((np.minimum(r, 0.0) ** 2).mean()) if len(r) else float("nan")
    end = equity[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        annual = end ** (1.0 / years) - 1.0 if years > 0 and end >= 0 else float("nan")
        peak = np.maximum.accumulate(equity)
        dd = np.where(peak > 0, equity / np.where(peak > 0, peak, 1.0) - 1.0, 0.0)
        mdd = max(min(0.0, dd.min()), -1.0)
        out = {
            "total_return": end - 1.0,
            "annual_return": annual,
            "sharpe_ratio": mean / std * math.sqrt(252) if std else float("nan"),
            "sortino_ratio": mean / down * math.sqrt(252) if down else float("nan"),
            "volatility": std * math.sqrt(252),
            "max_drawdown": mdd,
            "calmar_ratio": annual / abs(mdd) if mdd else float("nan"),
            "turnover": traded_fraction / 2.0 / years if years else float("nan"),
            "exposure": sum(invested) / n,
        }
    if n < MIN_WINDOW:
        for k in ("annual_return", "sharpe_ratio", "sortino_ratio", "volatility", "calmar_ratio", "turnover"):
            out[k] = None
    out = {k: (v if v is not None and math.isfinite(v) else None) for k, v in out.items()}
    out["win_rate"] = (sum(1 for x in closed if x > 0) / len(closed)) if closed else None
    out["trades"] = len(closed)
    out["days"] = days
    out["start"] = dates[0].strftime("%Y-%m-%d")
    out["end"] = dates[-1].strftime("%Y-%m-%d")
    return out


def oracle(data_dir, script):
    (position, is_bool), params = run_script(script, data_dir)
    p = parse_params(params)
    result = metrics(*backtest(data_dir, position, is_bool, p))
    return {"metrics": result, "params": params,
            "position": {"rows": len(position.index), "columns": len(position.columns),
                         "dtype": "bool" if is_bool else "float"}}


def main():
    data_dir, corpus = sys.argv[1], sys.argv[2]
    out = {}
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".py"):
            continue
        try:
            out[name] = oracle(data_dir, os.path.join(corpus, name))
        except Exception as err:  # reported per script; the test fails on it
            out[name] = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
