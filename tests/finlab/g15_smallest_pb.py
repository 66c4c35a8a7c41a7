pb = data.get('price_earning_ratio:股價淨值比')
roa = data.get('fundamental_features:ROA稅後息前').deadline()
profitable = roa > 0
position = pb.is_smallest(10) & profitable
report = sim(position, resample='M', take_profit=0.3, upload=False)
