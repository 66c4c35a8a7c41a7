willr = data.indicator('WILLR', timeperiod=14)
close = data.get('price:收盤價')
entry = willr < -90
exit_ = willr > -20
position = entry.hold_until(exit_, nstocks_limit=10, rank=-willr, stop_loss=0.1)
report = sim(position, upload=False, fee_ratio=0.002)
