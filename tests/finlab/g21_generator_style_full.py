# Strategy: Revenue acceleration with liquidity filter
# Generated for backtest period start_date..end_date

close = data.get("price:收盤價")
volume = data.get("price:成交股數")
revenue = data.get("monthly_revenue:當月營收")
rev_mom = data.get("monthly_revenue:上月比較增減(%)")

close = close.loc[start_date:end_date]
liquidity = (close * volume).average(20) > 5e6
accel = (revenue.average(3) / revenue.average(6)) > 1.02
mom_ok = rev_mom > 0

signal = accel & mom_ok & liquidity
position = revenue.pct_change(3)[signal].is_largest(10)

report = sim(
    position,
    resample="M",
    fee_ratio=fee_ratio,
    tax_ratio=tax_ratio,
    stop_loss=0.12,
    upload=False,
)
