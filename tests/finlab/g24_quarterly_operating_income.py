op = data.get('fundamental_features:營業利益').deadline()
close = data.get('price:收盤價')
op_growth = op / op.shift(4) - 1
position = op_growth.is_largest(10) & (op > 0)
position = position & (close > 0)
report = sim(position, resample='Q', stop_loss=0.15, upload=False)
