-- accounts per platform and tier on a day (hidden: the platform does not expose the count)
select
    platform,
    coalesce(tier, 'hidden') as tier,
    count(*) as accounts
from marts.creator_tier_daily
where day = $day
group by all
order by all
