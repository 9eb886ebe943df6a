-- the quarantined rows of a group of loads, from the Parquet file each was staged to
insert into quarantine.rows (
    load_id,
    platform,
    source_file,
    line,
    field,
    reason,
    raw,
    quarantined_at
)
select
    f.load_id,
    f.platform,
    f.source_file,
    q.line,
    q.field,
    q.reason,
    q.raw,
    current_timestamp
from read_parquet($paths, filename = true) as q
inner join (
    select
        unnest(cast($paths as varchar[])) as path,
        unnest(cast($load_ids as varchar[])) as load_id,
        unnest(cast($platforms as varchar[])) as platform,
        unnest(cast($source_files as varchar[])) as source_file
) as f
    on q.filename = f.path
