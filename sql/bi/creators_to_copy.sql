-- the creators whose rollups were rebuilt since the last BI copy, from their first such day on
-- (every later day: a count carries into the days after it, see transforms/affected_creator_days)
select
    creator_id,
    min(day_from) as day_from
from meta.bi_pending_creator_days
group by creator_id
