-- the quarantine of a file is that of its latest load: rows an earlier load of the same bytes
-- (same platform, landing day and account) quarantined are replaced by this load's, so
-- reading a file again never doubles its quarantined rows
delete from quarantine.rows
where load_id in (
    select load_id
    from meta.loads
    where
        platform = $platform
        and source_sha256 = $source_sha256
        and landing_day = $landing_day
        and account_id is not distinct from $account_id
        and load_id <> $load_id
)
