# 月營收動能選股：近3月營收創近12月新高，取市值前10大
close = data.get('price:收盤價')
rev = data.get('monthly_revenue:當月營收')
market_value = data.get('etl:market_value')

rev_ma3 = rev.average(3)
rev_ma12 = rev.average(12)
cond1 = rev_ma3 > rev_ma12
cond2 = close > close.average(60)
position = (cond1 & cond2)
position = market_value[position].is_largest(10)

report = sim(position, resample='M', upload=False)
