-- a group's staged rows of one entity, each with its load's observation time ($load_ids and
-- $observed_ats are parallel lists); the caller names the rows "staged", each with its load in
-- _load_id (see staging.staged_rows_sql)
select
    staged.*,
    f.observed_at as _observed_at
from staged
inner join (
    select
        unnest(cast($load_ids as varchar[])) as load_id,
        unnest(cast($observed_ats as timestamptz[])) as observed_at
) as f
    on staged._load_id = f.load_id
