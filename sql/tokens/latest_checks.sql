-- the newest observation of each platform's token variables, with the last time it was refreshed
select
    platform,
    variable,
    connection_id,
    fingerprint,
    expires_at,
    never_expires,
    valid,
    source,
    checked_at,
    max(refreshed_at) over (partition by platform, variable) as last_refreshed_at
from meta.token_checks
qualify row_number() over (
    partition by platform, variable order by checked_at desc, refreshed_at desc nulls last
) = 1
order by platform, variable
