-- a load's quarantined rows, from the Parquet file staging wrote beside its batch
insert into quarantine.rows
select
    $load_id,
    $platform,
    $source,
    line,
    field,
    reason,
    raw,
    current_timestamp
from read_parquet($path)
