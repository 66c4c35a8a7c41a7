roe = data.get('fundamental_features:ROE稅後').deadline()
opm = data.get('fundamental_features:營業利益率').deadline()
close = data.get('price:收盤價')

quality = (roe > 5) & (opm > 5)
position = roe[quality].is_largest(10)
report = sim(position, resample='Q', upload=False)
