"""Unit tests of the finlab-compatible API against hand-computed frames.

Run inside the sandbox image (pinned pandas) by tests/integration/compat.rs:
    docker run --rm --network none -v $PWD/src/harness:/h:ro -v $PWD/tests/python:/t:ro \
        finsandbox-runtime:1 python3 -m unittest discover -s /t
"""

import os
import sys
import tempfile
import unittest
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.environ.get("COMPAT_DIR", "/h"))
import finlab_compat as fc  # noqa: E402

D = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])


def frame(data, index=D):
    return fc.FinlabDataFrame(pd.DataFrame(data, index=index[: len(next(iter(data.values())))]))


def write_market(path, rows):
    pd.DataFrame(rows).to_parquet(path, index=False)


class Alignment(unittest.TestCase):
    def test_union_of_dates_forward_filled_and_intersection_of_symbols(self):
        daily = frame({"A": [1.0, 2.0, 3.0, 4.0], "B": [1.0, 1.0, 1.0, 1.0], "C": [9.0] * 4})
        monthly = fc.FinlabDataFrame(pd.DataFrame({"A": [10.0], "B": [20.0]}, index=pd.to_datetime(["2024-01-02"])))
        out = daily * monthly
        self.assertIsInstance(out, fc.FinlabDataFrame)
        self.assertEqual(list(out.columns), ["A", "B"])
        # finlab starts at the later first date (Jan 2); the 10/20 holds after it.
        self.assertEqual(list(out.index.strftime("%Y-%m-%d")), ["2024-01-02", "2024-01-03", "2024-01-04"])
        self.assertEqual(list(out["A"]), [20.0, 30.0, 40.0])
        self.assertEqual(list(out["B"]), [20.0, 20.0, 20.0])

    def test_boolean_operators_align_and_stay_boolean(self):
        a = frame({"A": [True, False, True, True]})
        b = fc.FinlabDataFrame(pd.DataFrame({"A": [True]}, index=pd.to_datetime(["2024-01-03"])))
        out = a & b
        self.assertEqual(out["A"].tolist(), [True, True])
        self.assertEqual(out["A"].dtype, bool)

    def test_only_dates_added_by_the_union_are_filled_existing_nan_stays(self):
        # The minimal case: a halted day (NaN) is not a price.
        idx = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
        close = fc.FinlabDataFrame(pd.DataFrame({"X": [10.0, np.nan, 11.0, 11.0, 22.0], "Y": [10.0] * 5}, index=idx))
        self.assertEqual((close > close.shift(1))["X"].tolist(), [False, False, False, False, True])
        # Against a frame on other dates: Jan 2's NaN stays NaN; only a
        # date the union adds (Jan 2 12:00 does not exist; use a sparse frame) is filled.
        sparse = fc.FinlabDataFrame(pd.DataFrame({"X": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-01", "2024-01-04"])))
        out = close + sparse
        self.assertEqual(out["X"].tolist()[0], 11.0)
        self.assertTrue(np.isnan(out["X"].iloc[1]), "a NaN of the frame stays NaN")
        self.assertEqual(out["X"].tolist()[2:], [12.0, 13.0, 24.0])
        ma = close.rolling(3).mean()
        self.assertFalse((close > ma)["X"].iloc[:2].any(), "warm-up NaN never compares true")

    def test_series_is_spread_over_the_columns_by_date(self):
        f = frame({"A": [1.0, 2.0, 3.0, 4.0], "B": [4.0, 3.0, 2.0, 1.0]})
        out = f > f.mean(axis=1)
        self.assertEqual(out["A"].tolist(), [False, False, True, True])
        self.assertEqual(out["B"].tolist(), [True, True, False, False])

    def test_scalar_operations_keep_the_type(self):
        out = frame({"A": [1.0, 2.0, 3.0, 4.0]}) > 2
        self.assertIsInstance(out, fc.FinlabDataFrame)
        self.assertEqual(out["A"].tolist(), [False, False, True, True])


class Methods(unittest.TestCase):
    def test_average_needs_half_the_window(self):
        out = frame({"A": [1.0, 2.0, 3.0, 4.0]}).average(4)
        # min_periods 2: NaN, 1.5, 2, 2.5
        self.assertTrue(np.isnan(out["A"].iloc[0]))
        self.assertEqual(out["A"].iloc[1:].tolist(), [1.5, 2.0, 2.5])

    def test_is_largest_and_is_smallest_break_ties_by_column_order(self):
        f = frame({"A": [3.0, 1.0], "B": [3.0, 2.0], "C": [1.0, 2.0]})
        self.assertEqual(f.is_largest(1).iloc[0].tolist(), [True, False, False])
        self.assertEqual(f.is_largest(2).iloc[1].tolist(), [False, True, True])
        self.assertEqual(f.is_smallest(1).iloc[1].tolist(), [True, False, False])

    def test_rise_and_fall(self):
        f = frame({"A": [1.0, 2.0, 2.0, 1.0]})
        self.assertEqual(f.rise().iloc[:, 0].tolist(), [False, True, False, False])
        self.assertEqual(f.fall().iloc[:, 0].tolist(), [False, False, False, True])
        self.assertEqual(f.rise(2).iloc[:, 0].tolist(), [False, False, True, False])

    def test_is_entry_and_is_exit(self):
        f = frame({"A": [False, True, True, False]})
        self.assertEqual(f.is_entry()["A"].tolist(), [False, True, False, False])
        self.assertEqual(f.is_exit()["A"].tolist(), [False, False, False, True])

    def test_sustain(self):
        f = frame({"A": [True, True, False, True]})
        self.assertEqual(f.sustain(2).iloc[:, 0].tolist(), [False, True, False, False])
        self.assertEqual(f.sustain(3, 2).iloc[:, 0].tolist(), [False, False, True, True])

    def test_quantile_row_and_deadline(self):
        f = frame({"A": [1.0, 2.0], "B": [3.0, 4.0]})
        self.assertEqual(f.quantile_row(0.5).tolist(), [2.0, 3.0])
        self.assertEqual(len(frame({"A": [1.0, 2.0, 3.0, 4.0]}).deadline("2024-01-02")), 2)

    def test_deadline_without_argument_maps_period_ends_to_publication(self):
        quarters = fc.FinlabDataFrame(pd.DataFrame(
            {"A": [1.0, 2.0, 3.0, 4.0]},
            index=pd.to_datetime(["2023-03-31", "2023-06-30", "2023-09-30", "2023-12-31"])))
        out = quarters.deadline()
        self.assertEqual([d.strftime("%Y-%m-%d") for d in out.index],
                         ["2023-05-15", "2023-08-14", "2023-11-14", "2024-03-31"])
        months = fc.FinlabDataFrame(pd.DataFrame(
            {"A": [1.0, 2.0, 3.0]}, index=pd.to_datetime(["2023-11-30", "2023-12-31", "2024-01-31"])))
        self.assertEqual([d.strftime("%Y-%m-%d") for d in months.deadline().index],
                         ["2023-12-10", "2024-01-10", "2024-02-10"])
        labels = fc.FinlabDataFrame(pd.DataFrame({"A": [1.0]}, index=["2024-Q2"]))
        self.assertEqual(labels.deadline().index[0], pd.Timestamp("2024-08-14"))
        daily = frame({"A": [1.0, 2.0, 3.0, 4.0]})
        self.assertTrue(daily.deadline().index.equals(daily.index), "publication dates stay")

    def test_index_str_to_date(self):
        f = fc.FinlabDataFrame(pd.DataFrame({"A": [1.0, 2.0, 3.0]}, index=["2024-M1", "2023-Q4", "2024-Q1"]))
        out = f.index_str_to_date()
        self.assertEqual([d.strftime("%Y-%m-%d") for d in out.index], ["2024-02-10", "2024-03-31", "2024-05-15"])

    def test_hold_until(self):
        entry = frame({"A": [True, False, False, True], "B": [True, True, False, False]})
        exit_ = frame({"A": [False, False, True, False], "B": [False, False, False, False]})
        out = entry.hold_until(exit_)
        self.assertEqual(out["A"].tolist(), [True, True, False, True])
        self.assertEqual(out["B"].tolist(), [True, True, True, True])
        limited = entry.hold_until(exit_, nstocks_limit=1, rank=frame({"A": [1.0] * 4, "B": [2.0] * 4}))
        # B ranks higher and takes the only slot on day 1.
        self.assertEqual(limited["B"].tolist(), [True, True, True, True])
        self.assertEqual(limited["A"].tolist(), [False, False, False, False])


class DataAndIndicators(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        rows = []
        closes = [10.0, 11.0, 10.0, 12.0, 13.0]
        for i, c in enumerate(closes):
            rows.append({"date": pd.Timestamp("2024-01-01") + pd.Timedelta(days=i), "symbol": "A",
                         "open": c, "high": c + 1, "low": c - 1, "close": c, "volume": 100.0})
        os.makedirs(os.path.join(cls.dir, "d"))
        write_market(os.path.join(cls.dir, "d", "price.parquet"), rows)
        write_market(os.path.join(cls.dir, "d", "monthly_revenue.parquet"),
                     [{"date": pd.Timestamp("2024-01-03"), "symbol": "A", "當月營收": 5.0}])
        cls.data = fc.Data(os.path.join(cls.dir, "d"))

    def test_keys_aliases_and_tables(self):
        self.assertEqual(self.data.get("price:收盤價")["A"].tolist(), [10.0, 11.0, 10.0, 12.0, 13.0])
        self.assertEqual(self.data.get("close")["A"].tolist(), self.data.get("price:close")["A"].tolist())
        self.assertEqual(self.data.get("monthly_revenue:當月營收")["A"].tolist(), [5.0])

    def test_finlab_named_columns_resolve_verbatim_first_and_aliases_both_ways(self):
        d = os.path.join(self.dir, "finlab")
        os.makedirs(d, exist_ok=True)
        rows = [{"date": pd.Timestamp("2024-01-01") + pd.Timedelta(days=i), "symbol": "A", "收盤價": c,
                 "開盤價": c, "最高價": c + 1, "最低價": c - 1} for i, c in enumerate([10.0, 11.0, 10.0, 12.0, 13.0])]
        write_market(os.path.join(d, "price.parquet"), rows)
        write_market(os.path.join(d, "etl.parquet"), [dict(date=r["date"], symbol="A", adj_close=r["收盤價"] / 2) for r in rows])
        data = fc.Data(d)
        self.assertEqual(data.get("price:收盤價")["A"].tolist(), [10.0, 11.0, 10.0, 12.0, 13.0])
        self.assertEqual(data.get("close")["A"].tolist(), [10.0, 11.0, 10.0, 12.0, 13.0])
        self.assertEqual(data.get("etl:adj_close")["A"].iloc[0], 5.0)
        self.assertEqual(data.get("adj_close")["A"].iloc[0], 5.0)
        # Indicators use the raw close unless adjust_price=True (as finlab):
        # RSI is scale-free, SMA is not.
        self.assertAlmostEqual(data.indicator("RSI", timeperiod=2)["A"].iloc[-1], 90.0)
        self.assertAlmostEqual(data.indicator("SMA", timeperiod=2)["A"].iloc[-1], 12.5)
        self.assertAlmostEqual(data.indicator("SMA", adjust_price=True, timeperiod=2)["A"].iloc[-1], 6.25)
        # The host's price columns win over the table's own guess.
        told = fc.Data(d, prices={"close": "price:開盤價"})
        self.assertEqual(told.price("close")["A"].iloc[0], 10.0)

    def test_unknown_key_lists_the_closest(self):
        with self.assertRaises(KeyError) as ctx:
            self.data.get("closes")
        self.assertIn("close", str(ctx.exception))

    def test_a_finlab_key_the_data_lacks_is_named_as_such_and_never_suggested_to_itself(self):
        # Prices only (one file): monthly revenue is a finlab key it lacks.
        data = fc.Data(os.path.join(self.dir, "d", "price.parquet"))
        for key in ("monthly_revenue:當月營收", "price:成交股數x", "closes"):
            with self.assertRaises(KeyError) as ctx:
                data.get(key)
            message = str(ctx.exception)
            closest = message.split("closest: ")[1].split(";")[0] if "closest: " in message else ""
            self.assertNotIn(key, closest.split(", "), message)
            for suggested in filter(None, closest.split(", ")):
                data.get(suggested)  # every suggestion answers
        with self.assertRaises(KeyError) as ctx:
            data.get("monthly_revenue:當月營收")
        self.assertIn("a finlab key, but this data holds no table or column for it", str(ctx.exception))

    def test_rsi_is_wilder_smoothing(self):
        rsi = self.data.indicator("RSI", timeperiod=2)["A"]
        # changes +1, -1, +2, +1; alpha 1/2 ewm (adjust=False) from the first change:
        # up: 1, .5, 1.25, 1.125; down: 0, .5, .25, .125 → RSI day 5 = 100 - 100/(1+9)
        self.assertAlmostEqual(rsi.iloc[-1], 90.0)

    def test_sma_ema_macd_bbands(self):
        self.assertAlmostEqual(self.data.indicator("SMA", timeperiod=2)["A"].iloc[-1], 12.5)
        ema = self.data.indicator("EMA", timeperiod=3)["A"]  # alpha 0.5: 10, 10.5, 10.25, 11.125, 12.0625
        self.assertAlmostEqual(ema.iloc[-1], 12.0625)
        macd, signal, hist = self.data.indicator("MACD", fastperiod=2, slowperiod=3, signalperiod=2)
        self.assertAlmostEqual(hist["A"].iloc[-1], macd["A"].iloc[-1] - signal["A"].iloc[-1])
        upper, mid, lower = self.data.indicator("BBANDS", timeperiod=2, nbdevup=1, nbdevdn=1)
        # last two closes 12, 13: mean 12.5, population std 0.5
        self.assertAlmostEqual(upper["A"].iloc[-1], 13.0)
        self.assertAlmostEqual(lower["A"].iloc[-1], 12.0)

    def test_atr_stoch_willr(self):
        atr = self.data.indicator("ATR", timeperiod=1)["A"]
        # true range day 5: max(14-12, |14-12|, |12-12|) = 2
        self.assertAlmostEqual(atr.iloc[-1], 2.0)
        k, d = self.data.indicator("STOCH", fastk_period=2, slowk_period=1, slowd_period=1)
        # day 5: low min(11,12)=11, high max(13,14)=14: RSV = (13-11)/3*100
        self.assertAlmostEqual(k["A"].iloc[-1], 200 / 3)
        willr = self.data.indicator("WILLR", timeperiod=2)["A"]
        self.assertAlmostEqual(willr.iloc[-1], (14 - 13) / 3 * -100)

    def test_universe_is_accepted_with_a_warning(self):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with self.data.universe("TSE_OTC"):
                pass
        self.assertTrue(any("no market categories" in str(x.message) for x in w))


class Sim(unittest.TestCase):
    def test_records_position_and_parameters_and_hides_metrics(self):
        rec = fc.Recorder()
        sim = fc.make_sim(rec)
        report = sim(frame({"A": [True] * 4}), resample="M", stop_loss=0.08, mystery=1)
        self.assertTrue(rec.called)
        self.assertEqual(rec.params, {"resample": "'M'", "stop_loss": "0.08", "mystery": "1"})
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            self.assertIsNone(report.display())
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            self.assertTrue(np.isnan(report.get_stats()["daily_sharpe"]))
        with self.assertRaises(AttributeError) as ctx:
            report.trades_of_the_host
        self.assertIn("computed by the finsandbox host", str(ctx.exception))


    def test_resample_as_dates_is_recorded_as_iso_strings(self):
        rec = fc.Recorder()
        sim = fc.make_sim(rec)
        sim(frame({"A": [True] * 4}), resample=pd.DatetimeIndex(["2024-01-31", "2024-02-29"]), upload=False,
            position_limit=0.2)
        self.assertEqual(rec.params["resample"], "['2024-01-31', '2024-02-29']")
        self.assertEqual(rec.params["position_limit"], "0.2")
        sim(frame({"A": [True] * 4}), resample=[pd.Timestamp("2024-03-29")])
        self.assertEqual(rec.params["resample"], "['2024-03-29']")
        sim(frame({"A": [True] * 4}))
        self.assertEqual(rec.params["resample"], "None")

    def test_report_placeholders_warn_and_say_so(self):
        report = fc.make_sim(fc.Recorder())(frame({"A": [True] * 4}))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            self.assertEqual(len(report.creturn), 0)
            self.assertIn("placeholder", report.creturn.name)
            self.assertTrue(np.isnan(report.metrics.sharpe_ratio()))
            self.assertIn("placeholder", repr(report.metrics))
            self.assertIsNone(report.display())
        self.assertGreaterEqual(len(w), 3)
        self.assertTrue(any("computed by the finsandbox host" in n for n in fc.NOTES))


class Namespace(unittest.TestCase):
    def test_pre_bound_names_are_exactly_the_generators(self):
        d = tempfile.mkdtemp()
        write_market(os.path.join(d, "price.parquet"),
                     [{"date": pd.Timestamp("2024-01-02"), "symbol": "A", "收盤價": 1.0},
                      {"date": pd.Timestamp("2024-03-01"), "symbol": "A", "收盤價": 2.0}])
        rec = fc.Recorder()
        data = fc.install(d, rec)
        ns = fc.namespace(data, sys.modules["finlab.backtest"].sim, "s.py", {"fee_ratio": 0.002})
        names = {k for k in ns if not k.startswith("__")}
        self.assertEqual(names, {"data", "sim", "pd", "np", "start_date", "end_date", "fee_ratio", "tax_ratio"})
        self.assertEqual((ns["start_date"], ns["end_date"]), ("2024-01-02", "2024-03-01"))
        self.assertEqual((ns["fee_ratio"], ns["tax_ratio"]), (0.002, 0.003))
        code = "close = data.get('price:收盤價')\nreport = sim(close > 0, resample='M')\n"
        exec(compile(code, "s.py", "exec"), ns)
        self.assertTrue(rec.called)
        self.assertIs(fc.pick_position(ns, rec, data), rec.position)
        ns2 = fc.namespace(data, None, "s.py", {"start_date": "2024-02-01", "end_date": "2024-02-28"})
        self.assertEqual((ns2["start_date"], ns2["end_date"]), ("2024-02-01", "2024-02-28"))

    def test_finlab_analysis_calls_do_nothing_but_warn(self):
        fc.install(tempfile.mkdtemp() + "/missing", fc.Recorder()) if False else None
        d = tempfile.mkdtemp()
        write_market(os.path.join(d, "price.parquet"), [{"date": pd.Timestamp("2024-01-02"), "symbol": "A", "close": 1.0}])
        fc.install(d, fc.Recorder())
        from finlab import analysis
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            self.assertIsNone(analysis.liquidityAnalysis(required_volume=1000))
        self.assertTrue(any("does nothing" in str(x.message) for x in w))


if __name__ == "__main__":
    unittest.main()
