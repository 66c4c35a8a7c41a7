dy = data.get('price_earning_ratio:殖利率(%)')
# 每年 6 月底換股的高殖利率組合
position = dy.average(60).is_largest(15)
report = sim(position, resample='A-JUN', upload=False)
