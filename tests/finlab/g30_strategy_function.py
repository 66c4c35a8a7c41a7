def strategy(data):
    close = data.get('price:收盤價')
    rev = data.get('monthly_revenue:去年同月增減(%)').deadline()
    return (rev > 20) & (close > close.average(60)) & rev.is_largest(10)
