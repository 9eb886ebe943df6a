-- the account-day ranges a staged fact file can change in the marts
insert into meta.pending_mart_days
select
    platform,
    account_id,
    min(day) as day_from,
    max(day) + cast($reach_days as integer) as day_to,
    $load_id as load_id
from read_parquet($path)
group by platform, account_id
