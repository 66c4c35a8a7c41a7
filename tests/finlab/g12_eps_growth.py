eps = data.get('fundamental_features:每股稅後淨利').deadline()
close = data.get('price:收盤價')

eps_growth = eps > eps.shift(1)
positive = eps > 0
cond = (eps_growth & positive).sustain(2)
position = cond & (close > close.average(20))
position = position & eps.is_largest(15)
report = sim(position, resample='Q-JAN', upload=False)
