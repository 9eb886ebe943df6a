-- the recorded outcome of a load an earlier try finished (published or failed), if any
select
    platform,
    format,
    source_file,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    message,
    rows_inserted,
    rows_updated,
    rows_unchanged
from meta.loads
where
    load_id = $load_id
    and status in ('published', 'failed')
