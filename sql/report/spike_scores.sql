-- an account's daily spike scores
select
    day,
    robust_score
from marts.follower_anomalies_daily
where
    platform = $platform
    and account_id = $account_id
    and robust_score is not null
order by day
