-- a file that could not be used: no rows of it are published, the reason is the message
insert into meta.loads (
    load_id,
    platform,
    format,
    source_file,
    source_sha256,
    account_id,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    message,
    started_at,
    finished_at,
    parser_version,
    landing_day
)
values (
    $load_id,
    $platform,
    $format,
    $source_file,
    $source_sha256,
    $account_id,
    'rejected',
    0,
    0,
    0,
    $message,
    $started_at,
    current_timestamp,
    $parser_version,
    $landing_day
)
