-- a load's quarantined rows (line, field, reason, raw), from the Parquet file they were staged to
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
    $load_id,
    $platform,
    $source_file,
    line,
    field,
    reason,
    raw,
    current_timestamp
from read_parquet($path)
