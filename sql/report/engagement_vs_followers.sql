-- every account with followers and an engagement rate on a day, with its tier
select
    coalesce(t.tier, 'hidden') as tier,
    coalesce(e.handle, e.account_id) as handle,
    e.platform,
    e.followers,
    e.engagement_rate
from marts.creator_engagement_daily as e
left join marts.creator_tier_daily as t using (platform, account_id, day)
where
    e.day = $day
    and e.followers > 0
    and e.engagement_rate is not null
order by all
