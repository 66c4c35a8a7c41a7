# 營收年增率連續成長 + 公告截止日對齊
rev_yoy = data.get('monthly_revenue:去年同月增減(%)').deadline()
close = data.get('price:收盤價')

growth = (rev_yoy > 10).sustain(3)
trend = close > close.average(20)
position = growth & trend
position = rev_yoy[position].is_largest(8)
report = sim(position, resample='M', stop_loss=0.1, fee_ratio=fee_ratio, tax_ratio=tax_ratio, upload=False)
