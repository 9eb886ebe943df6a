-- days the follower series of these platforms changes definition, within the shown days
select
    platform,
    break_date,
    note
from marts.metric_breaks
where
    metric = 'followers'
    and not continuous
    and break_date between $first and $last
    and list_contains($platforms, platform)
order by break_date, platform
