from finlab import analysis

close = data.get('price:收盤價')
ma = close.average(10)
position = (close > ma).sustain(3) & close.pct_change(10).is_largest(10)
report = sim(position, resample='W', upload=False)
report.display()
analysis.liquidityAnalysis(required_volume=100000)
creturn = report.creturn
stats = report.metrics
print(len(creturn))
