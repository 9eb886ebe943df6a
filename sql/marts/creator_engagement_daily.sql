-- engagement per account-day for the account-days in affected_days (see ingest.transforms)
-- reads engagement_window_posts, prepared from the same affected_days
-- er_followers_v1: mean interactions per post over posts published in the trailing 28 days,
--   divided by followers that day; a post's interactions are likes + comments + shares + saves
--   from its latest observation on or before the day, unexposed components omitted; posts whose
--   likes are hidden have no interactions and are left out of the mean
-- er_views_v1: the same interactions divided by the same posts' views
with

affected as (
    select * from affected_days
),

account_days as (
    select
        account_daily.platform,
        account_daily.account_id,
        account_daily.day,
        account_daily.followers
    from core.account_daily
    inner join affected
        on
            account_daily.platform = affected.platform
            and account_daily.account_id = affected.account_id
            and account_daily.day between affected.day_from and affected.day_to
),

follower_history as (
    select
        account_daily.platform,
        account_daily.account_id,
        account_daily.day,
        account_daily.followers
    from core.account_daily
    inner join affected
        on
            account_daily.platform = affected.platform
            and account_daily.account_id = affected.account_id
            and account_daily.day between affected.day_from - 7 and affected.day_to
),

-- (platform, account_id, day, post_id) for every post in an account-day's trailing window, a
-- table prepared before this model (see ingest.transforms), so the planner knows its size
window_posts as (
    select * from engagement_window_posts
),

-- the observations of the window's posts only: joining core.post_daily whole would hash every
-- observation of the history each night
window_observations as (
    select
        post_daily.platform,
        post_daily.post_id,
        post_daily.day,
        post_daily.views,
        post_daily.likes,
        post_daily.comments,
        post_daily.shares,
        post_daily.saves
    from core.post_daily
    semi join window_posts
        on
            post_daily.platform = window_posts.platform
            and post_daily.post_id = window_posts.post_id
),

latest_observations as (
    select
        window_posts.platform,
        window_posts.account_id,
        window_posts.day,
        window_posts.post_id,
        window_observations.views,
        window_observations.likes,
        window_observations.comments,
        window_observations.shares,
        window_observations.saves
    from window_posts
    left join window_observations
        on
            window_posts.platform = window_observations.platform
            and window_posts.post_id = window_observations.post_id
            and window_observations.day <= window_posts.day
    qualify row_number() over (
        partition by window_posts.platform, window_posts.post_id, window_posts.day
        order by window_observations.day desc nulls last
    ) = 1
),

post_interactions as (
    select
        platform,
        account_id,
        day,
        post_id,
        views,
        case
            when likes is not null
                then likes + coalesce(comments, 0) + coalesce(shares, 0) + coalesce(saves, 0)
        end as interactions
    from latest_observations
),

window_totals as (
    select
        platform,
        account_id,
        day,
        count(*) as posts_28d,
        sum(interactions) as interactions_28d,
        avg(interactions) as mean_interactions,
        sum(views) filter (where interactions is not null) as views_28d,
        sum(interactions) filter (where views is not null) as interactions_with_views
    from post_interactions
    group by platform, account_id, day
),

final as (
    select
        account_days.platform,
        account_days.account_id,
        accounts.handle,
        account_days.day,
        account_days.followers,
        coalesce(window_totals.posts_28d, 0) as posts_28d,
        window_totals.interactions_28d,
        window_totals.mean_interactions / nullif(account_days.followers, 0) as engagement_rate,
        window_totals.interactions_with_views
        / nullif(window_totals.views_28d, 0) as engagement_rate_views,
        account_days.followers - day_before.followers as followers_change_1d,
        account_days.followers - week_before.followers as followers_change_7d,
        window_totals.views_28d,
        'er_followers_v1' as engagement_formula,
        'er_views_v1' as engagement_views_formula
    from account_days
    left join window_totals
        on
            account_days.platform = window_totals.platform
            and account_days.account_id = window_totals.account_id
            and account_days.day = window_totals.day
    left join core.accounts
        on
            account_days.platform = accounts.platform
            and account_days.account_id = accounts.account_id
    left join follower_history as day_before
        on
            account_days.platform = day_before.platform
            and account_days.account_id = day_before.account_id
            and account_days.day - 1 = day_before.day
    left join follower_history as week_before
        on
            account_days.platform = week_before.platform
            and account_days.account_id = week_before.account_id
            and account_days.day - 7 = week_before.day
)

select * from final
