-- the latest loads, newest first
select
    load_id,
    platform,
    format,
    source_file,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    message,
    started_at,
    finished_at
from meta.loads
order by started_at desc, load_id desc
limit $limit
