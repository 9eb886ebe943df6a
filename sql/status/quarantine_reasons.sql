-- the commonest reasons rows were quarantined for, by field
select
    platform,
    field,
    count(*) as quarantined_rows,
    min(reason) as example
from quarantine.rows
group by platform, field
order by quarantined_rows desc, platform, field
limit $limit
