import numpy as np
roe = data.get('fundamental_features:ROE稅後')
labels = [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in roe.index]
roe_q = roe.copy()
roe_q.index = labels
roe_pub = roe_q.index_str_to_date()
position = roe_pub.is_largest(8) & (roe_pub > np.nan_to_num(0.0))
report = sim(position, resample='QS-FEB', upload=False)
