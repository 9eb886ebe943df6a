-- the recorded outcome of each load an earlier try finished (published or failed), if any
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
    rows_inserted,
    rows_updated,
    rows_unchanged
from meta.loads
where
    load_id in (select unnest(cast($load_ids as varchar[])))
    and status in ('published', 'failed')
