close = data.get('price:收盤價')
position = close.pct_change(5).is_smallest(10) & (close > close.average(200))
report = sim(position, resample='W', fee_ratio=0.0, tax_ratio=0.0, upload=False)
