# 以市值加權前20大
mv = data.get('etl:market_value')
close = data.get('price:收盤價')
top = mv.is_largest(20) & (close > close.average(20))
weights = mv[top].fillna(0)
position = weights.div(weights.sum(axis=1), axis=0).fillna(0)
report = sim(position, resample='M', position_limit=0.08, upload=False)
