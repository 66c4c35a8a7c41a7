import pandas as pd

close = data.get('price:收盤價')
rev = data.get('monthly_revenue:當月營收').deadline()

score = rev.pct_change(12)
position = score.is_largest(10) & (close > 10)
# 每月 15 日換股（營收公告後）
dates = pd.date_range(start_date, end_date, freq='MS') + pd.Timedelta(days=14)
report = sim(position, resample=dates, upload=False)
