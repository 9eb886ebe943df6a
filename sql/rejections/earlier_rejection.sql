-- the load that rejected these bytes (same platform, landing day and account) with this parser
-- version, if any: a replay skips such a file instead of rejecting it again
select load_id
from meta.loads
where
    status = 'rejected'
    and platform = $platform
    and source_sha256 = $source_sha256
    and landing_day = $landing_day
    and account_id is not distinct from $account_id
    and parser_version = $parser_version
order by started_at
limit 1
