from finlab import data
from finlab.backtest import sim

close = data.get("price:收盤價")
adj_close = data.get("etl:adj_close")

# 均線多頭排列
ma5 = adj_close.average(5)
ma20 = adj_close.average(20)
ma60 = adj_close.average(60)
bull = (ma5 > ma20) & (ma20 > ma60)
position = bull & (close > 20)
position = adj_close.pct_change(20)[position].is_largest(15)

report = sim(position, resample="M", name="均線多頭", upload=False)
