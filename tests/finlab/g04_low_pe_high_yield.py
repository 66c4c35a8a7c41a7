pe = data.get('price_earning_ratio:本益比')
dy = data.get('price_earning_ratio:殖利率(%)')
close = data.get('price:收盤價')

cheap = (pe > 0) & (pe < 15)
value = dy[cheap].is_largest(10)
position = value & (close > close.average(120))
report = sim(position, resample='M', position_limit=0.15, upload=False)
