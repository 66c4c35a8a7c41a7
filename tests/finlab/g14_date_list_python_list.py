close = data.get('price:收盤價')
vol = data.get('price:成交股數')
liquidity = vol.average(20)
momentum = close / close.shift(60) - 1
liquid = liquidity > liquidity.quantile_row(0.3)
position = momentum[liquid].is_largest(12)
rebalance = [pd.Timestamp(d) for d in ['2018-06-29', '2018-12-28', '2019-06-28', '2019-12-31', '2020-06-30']]
report = sim(position, resample=rebalance, upload=False, position_limit=0.1)
