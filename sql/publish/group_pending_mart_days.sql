-- pending_mart_days for every load of a group, from its staged fact rows (publish_source)
insert into meta.pending_mart_days
select
    platform,
    account_id,
    min(day) as day_from,
    max(day) + cast($reach_days as integer) as day_to,
    _load_id as load_id
from publish_source
group by platform, account_id, _load_id
