-- the creators whose rollups were rebuilt since the last BI copy, from their first such day on
select
    creator_id,
    min(day_from) as day_from
from meta.bi_pending_creator_days
group by creator_id
