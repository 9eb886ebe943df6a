-- supersede_quarantine for a group of loads at once: the quarantined rows of earlier loads of
-- the same bytes (platform, landing day, account) give way to those of the group's loads
delete from quarantine.rows
where load_id in (
    select l.load_id
    from meta.loads as l
    inner join (
        select
            unnest(cast($load_ids as varchar[])) as load_id,
            unnest(cast($platforms as varchar[])) as platform,
            unnest(cast($source_sha256s as varchar[])) as source_sha256,
            unnest(cast($account_ids as varchar[])) as account_id,
            unnest(cast($landing_days as date[])) as landing_day
    ) as b
        on
            l.platform = b.platform
            and l.source_sha256 = b.source_sha256
            and l.landing_day = b.landing_day
            and l.account_id is not distinct from b.account_id
            and l.load_id <> b.load_id
)
