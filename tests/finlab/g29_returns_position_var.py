close = data.get('price:收盤價')
amount = data.get('price:成交金額')
liquid = amount.average(20).is_largest(50)
mom = close.pct_change(120)
position = mom[liquid].is_largest(10)
# no sim(): the module-level position is the answer
