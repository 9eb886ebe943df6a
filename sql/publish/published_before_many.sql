-- published_before for many files at once: per asked file (by its position), the latest
-- published load of the same bytes read the same way (platform, format, account, landing day,
-- parser version) with its merge counts
select
    asked.position,
    l.load_id,
    l.rows_inserted,
    l.rows_updated,
    l.rows_unchanged,
    l.rows_read,
    l.rows_loaded,
    l.rows_quarantined
from (
    select
        unnest(range(len(cast($platforms as varchar[])))) as position,
        unnest(cast($platforms as varchar[])) as platform,
        unnest(cast($formats as varchar[])) as format,
        unnest(cast($source_sha256s as varchar[])) as source_sha256,
        unnest(cast($account_ids as varchar[])) as account_id,
        unnest(cast($landing_days as date[])) as landing_day,
        unnest(cast($parser_versions as varchar[])) as parser_version
) as asked
inner join meta.loads as l
    on
        l.status = 'published'
        and l.platform = asked.platform
        and l.format = asked.format
        and l.source_sha256 = asked.source_sha256
        and l.account_id is not distinct from asked.account_id
        and l.landing_day = asked.landing_day
        and l.parser_version = asked.parser_version
qualify row_number() over (partition by asked.position order by l.started_at desc) = 1
