-- the creators whose rollups a marts rebuild replaced, for the next BI copy to replace in turn
insert into meta.bi_pending_creator_days
select
    creator_id,
    day_from
from affected_creator_days
