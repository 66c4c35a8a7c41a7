"""A finlab-style script: revenue momentum with price trend, monthly rebalance."""
from finlab import data
from finlab.backtest import sim

close = data.get("price:收盤價")
revenue = data.get("monthly_revenue:當月營收")
revenue_growth = revenue.average(3) / revenue.average(12)
trend = close > close.average(60)
rising = revenue_growth.rise().sustain(2)
position = (revenue_growth * trend * rising).is_largest(10)
report = sim(position, resample="M", stop_loss=0.08, name="revenue momentum", upload=False)
report.display()
