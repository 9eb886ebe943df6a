-- one row per load (a published, failed or rejected file, a creators mapping): a new load is
-- inserted, a load recorded again (publishing -> published, or failed) is replaced whole; merge
-- rather than insert-or-replace, which needs a primary key that DuckLake tables do not have
merge into meta.loads as t
using (
    select
        $load_id as load_id,
        $platform as platform,
        $format as format,
        $source_file as source_file,
        $source_sha256 as source_sha256,
        $account_id as account_id,
        $status as status,
        $rows_read as rows_read,
        $rows_loaded as rows_loaded,
        $rows_quarantined as rows_quarantined,
        $message as message,
        $notes as notes,
        $started_at as started_at,
        current_timestamp as finished_at
) as s
    on t.load_id = s.load_id
when matched then update set
    platform = s.platform,
    format = s.format,
    source_file = s.source_file,
    source_sha256 = s.source_sha256,
    account_id = s.account_id,
    status = s.status,
    rows_read = s.rows_read,
    rows_loaded = s.rows_loaded,
    rows_quarantined = s.rows_quarantined,
    rows_inserted = null,
    rows_updated = null,
    rows_unchanged = null,
    message = s.message,
    notes = s.notes,
    started_at = s.started_at,
    finished_at = s.finished_at
when not matched then insert (
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
    notes,
    started_at,
    finished_at
)
values (
    s.load_id,
    s.platform,
    s.format,
    s.source_file,
    s.source_sha256,
    s.account_id,
    s.status,
    s.rows_read,
    s.rows_loaded,
    s.rows_quarantined,
    s.message,
    s.notes,
    s.started_at,
    s.finished_at
)
