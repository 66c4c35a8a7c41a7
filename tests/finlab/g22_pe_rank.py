pe = data.get('price_earning_ratio:本益比')
roe = data.get('fundamental_features:ROE稅後').deadline()
rank_pe = pe.rank(axis=1, pct=True)
rank_roe = roe.rank(axis=1, pct=True)
score = rank_roe - rank_pe
position = score.is_largest(10)
report = sim(position, resample='M', upload=False)
