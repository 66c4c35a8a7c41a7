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
        # Jan 1 has no monthly value yet (NaN); from Jan 2 the 10/20 holds.
        self.assertTrue(np.isnan(out.loc["2024-01-01", "A"]))
        self.assertEqual(list(out["A"].iloc[1:]), [20.0, 30.0, 40.0])
        self.assertEqual(list(out["B"].iloc[1:]), [20.0, 20.0, 20.0])

    def test_boolean_operators_align_and_stay_boolean(self):
        a = frame({"A": [True, False, True, True]})
        b = fc.FinlabDataFrame(pd.DataFrame({"A": [True]}, index=pd.to_datetime(["2024-01-03"])))
        out = a & b
        self.assertEqual(out["A"].tolist(), [False, False, True, True])
        self.assertEqual(out["A"].dtype, bool)

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

    def test_sustain(self):
        f = frame({"A": [True, True, False, True]})
        self.assertEqual(f.sustain(2).iloc[:, 0].tolist(), [False, True, False, False])
        self.assertEqual(f.sustain(3, 2).iloc[:, 0].tolist(), [False, False, True, True])

    def test_quantile_row_and_deadline(self):
        f = frame({"A": [1.0, 2.0], "B": [3.0, 4.0]})
        self.assertEqual(f.quantile_row(0.5).tolist(), [2.0, 3.0])
        self.assertEqual(len(frame({"A": [1.0, 2.0, 3.0, 4.0]}).deadline("2024-01-02")), 2)

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

    def test_unknown_key_lists_the_closest(self):
        with self.assertRaises(KeyError) as ctx:
            self.data.get("closes")
        self.assertIn("close", str(ctx.exception))

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
        self.assertIsNone(report.display())
        with self.assertRaises(AttributeError) as ctx:
            report.get_stats()
        self.assertIn("computed by the finsandbox host", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
