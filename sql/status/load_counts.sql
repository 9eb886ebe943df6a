-- loads per status, and when the latest of each started
select
    status,
    count(*) as loads,
    max(started_at) as latest
from meta.loads
group by status
order by status
