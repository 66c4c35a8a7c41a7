dealer = data.get('institutional_investors_trading_summary:自營商買賣超股數(自行買賣)')
close = data.get('price:收盤價')
flow = dealer.rolling(20).sum()
longs = flow.is_largest(5).astype(float) * 0.1
shorts = flow.is_smallest(5).astype(float) * -0.05
position = longs + shorts
report = sim(position, resample='M', upload=False)
