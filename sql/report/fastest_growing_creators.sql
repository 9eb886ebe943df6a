-- the creators that grew most over their history: growth of the accounts counted on both the
-- first and the last day (a count that joined the total later, such as an account read weekly
-- and first read after the first day, is not growth)
with

bounds as (
    select
        creator_id,
        min(day) as first_day,
        max(day) as last_day
    from marts.creator_daily
    where total_followers > 0
    group by creator_id
    having count(*) > 1
),

ends as (
    select
        a.creator_id,
        a.platform,
        a.account_id,
        any_value(a.followers) filter (where a.day = b.first_day) as followers_first,
        any_value(a.followers) filter (where a.day = b.last_day) as followers_last
    from marts.creator_account_daily as a
    inner join bounds as b
        on a.creator_id = b.creator_id and a.day in (b.first_day, b.last_day)
    where a.status = 'counted'
    group by a.creator_id, a.platform, a.account_id
)

select creator_id
from ends
where followers_first > 0 and followers_last is not null
group by creator_id
order by sum(followers_last) / sum(followers_first) desc, creator_id
limit $n
