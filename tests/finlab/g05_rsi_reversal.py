rsi = data.indicator('RSI', timeperiod=14)
close = data.get('price:收盤價')
vol = data.get('price:成交股數')

entry = (rsi < 30) & (vol.average(5) > vol.average(20))
exit_ = rsi > 60
position = entry.hold_until(exit_, nstocks_limit=5, rank=-rsi)
report = sim(position, stop_loss=0.08, take_profit=0.2, upload=False)
