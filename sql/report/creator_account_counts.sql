-- the follower counts a creator's total is made of, per account and day
select
    day,
    platform,
    account_id,
    followers
from marts.creator_account_daily
where creator_id = $creator_id and status = 'counted'
