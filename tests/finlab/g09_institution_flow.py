foreign = data.get('institutional_investors_trading_summary:外陸資買賣超股數(不含外資自營商)')
trust = data.get('institutional_investors_trading_summary:投信買賣超股數')
close = data.get('price:收盤價')
vol = data.get('price:成交股數')

flow = (foreign + trust).rolling(10).sum() / vol.rolling(10).sum()
position = flow.is_largest(10) & (close > close.average(20))
report = sim(position, resample='W', position_limit=0.1, upload=False)
