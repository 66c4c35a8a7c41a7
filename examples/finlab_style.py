"""Mean reversion, finlab script form: module-level code that calls sim().

Buy the 5 symbols furthest below their 10-day average, rebalanced monthly.
"""

from finlab import data
from finlab.backtest import sim

close = data.get("close")
gap = close / close.rolling(10).mean() - 1
position = gap.rank(axis=1) <= 5

report = sim(position, resample="M", name="mean reversion example")
report.display()
