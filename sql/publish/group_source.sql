-- the staged rows of one entity from a group of batches, each row with the load that staged it
-- and that load's observation time (the rows of one group have disjoint keys)
create or replace temp table publish_source as
select
    p.* exclude (filename),
    f.load_id as _load_id,
    f.observed_at as _observed_at
from read_parquet($paths, filename = true) as p
inner join (
    select
        unnest(cast($paths as varchar[])) as path,
        unnest(cast($load_ids as varchar[])) as load_id,
        unnest(cast($observed_ats as timestamptz[])) as observed_at
) as f
    on p.filename = f.path
