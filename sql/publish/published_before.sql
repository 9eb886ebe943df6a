-- the latest published load of the same bytes, read the same way: same platform, format,
-- account and landing day (hence the same observation time) and the same parser version; a
-- replay of it would change nothing, so it is reported instead of published again
select
    load_id,
    rows_inserted,
    rows_updated,
    rows_unchanged
from meta.loads
where
    status = 'published'
    and platform = $platform
    and format = $format
    and source_sha256 = $source_sha256
    and account_id is not distinct from $account_id
    and landing_day = $landing_day
    and parser_version = $parser_version
order by started_at desc
limit 1
