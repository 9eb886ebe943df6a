-- the flagged follower spikes, highest score first
select
    platform,
    account_id,
    coalesce(handle, account_id) as handle,
    day,
    followers_change_1d,
    median_change,
    mad_change,
    robust_score,
    threshold
from marts.follower_anomalies_daily
where is_spike
order by robust_score desc, day
limit $n
