-- quarantined rows per platform (null: the creators mapping) and the latest of them
select
    platform,
    count(*) as quarantined_rows,
    count(distinct load_id) as loads,
    max(quarantined_at) as latest
from quarantine.rows
group by platform
order by platform nulls last
