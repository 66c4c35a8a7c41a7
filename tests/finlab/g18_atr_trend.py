atr = data.indicator('ATR', timeperiod=14)
close = data.get('price:收盤價')
low_vol = (atr / close) < 0.03
uptrend = close.average(20) > close.average(60)
position = (low_vol & uptrend)
position = close.pct_change(20)[position].is_largest(10)
report = sim(position, resample='W', upload=False)
