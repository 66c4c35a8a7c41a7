with data.universe(market='TSE_OTC'):
    close = data.get('price:收盤價')
    rev = data.get('monthly_revenue:當月營收')

cond = rev.deadline().rise(2) & (close > close.average(20))
position = cond & close.is_smallest(60)
report = sim(position, resample='M', upload=False)
print(report)
