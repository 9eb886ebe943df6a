-- the micro accounts with the highest engagement rate on a day
select
    coalesce(e.handle, e.account_id) || ' (' || e.platform || ')' as label,
    e.engagement_rate,
    e.followers,
    e.posts_28d
from marts.creator_engagement_daily as e
inner join marts.creator_tier_daily as t using (platform, account_id, day)
where
    e.day = $day
    and t.tier = 'micro'
    and e.engagement_rate is not null
order by e.engagement_rate desc, e.account_id
limit $n
