-- the posts in each affected account-day's trailing 28-day window (published in day - 27 .. day),
-- prepared as a table before creator_engagement_daily runs: its real size lets the planner
-- hash these few posts and stream core.post_daily past them, not the other way round
with

affected as (
    select * from affected_days
),

account_days as (
    select
        account_daily.platform,
        account_daily.account_id,
        account_daily.day
    from core.account_daily
    inner join affected
        on
            account_daily.platform = affected.platform
            and account_daily.account_id = affected.account_id
            and account_daily.day between affected.day_from and affected.day_to
),

final as (
    select
        account_days.platform,
        account_days.account_id,
        account_days.day,
        posts.post_id
    from account_days
    inner join core.posts
        on
            account_days.platform = posts.platform
            and account_days.account_id = posts.account_id
            and cast(posts.published_at as date) between account_days.day - 27 and account_days.day
)

select * from final
