-- a creator's total followers per day, with the platforms and accounts the total counts
select
    day,
    total_followers,
    platforms,
    coalesce(counted_accounts, '') as counted_accounts
from marts.creator_daily
where creator_id = $creator_id and total_followers > 0
order by day
