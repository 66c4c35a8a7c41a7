close = data.get('price:收盤價')
high = data.get('price:最高價')
vol = data.get('price:成交股數')
new_high = high >= high.rolling(60).max()
vol_burst = vol > vol.average(20) * 2
position = (new_high & vol_burst).hold_until(close < close.average(10), nstocks_limit=8, rank=vol / vol.average(20))
report = sim(position, trade_at_price='open', stop_loss=0.07, upload=False)
