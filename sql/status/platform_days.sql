-- per platform: its published loads, the last one, the newest landing day published and the
-- newest day observed in core
with

published as (
    select
        platform,
        count(*) as loads,
        max(finished_at) as last_published_at,
        max(landing_day) as last_landing_day
    from meta.loads
    where status = 'published' and platform is not null
    group by platform
),

observed as (
    select
        platform,
        max(day) as last_day
    from core.account_daily
    group by platform
),

final as (
    select
        coalesce(published.platform, observed.platform) as platform,
        coalesce(published.loads, 0) as loads,
        published.last_published_at,
        published.last_landing_day,
        observed.last_day
    from published
    full outer join observed on published.platform = observed.platform
)

select * from final
order by platform
