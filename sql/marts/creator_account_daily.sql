-- one row per creator, day and account from day_from on, for the creators in
-- affected_creator_days: the follower count each account contributes to the creator's total that
-- day (followers_as_of_v1). The days are the days any of the creator's accounts was observed.
-- An account's value on day D is its latest follower statement on or before D: a known count, or
-- the platform saying the count is hidden; rows that say nothing about followers (a series of
-- daily views) neither count nor hide an earlier count. status:
--   counted: a known count at most $followers_window_days days old, in the total
--   hidden:  the latest statement within the window says the count is hidden
--   stale:   the latest statement is older than the window: dropped from the total
--   unknown: observed within the window, but no follower statement yet
-- last_observed_day: the account's latest observation of any kind on or before the day
-- engagement_rate is the account's er_followers_v1 of the day the counted value comes from
with

affected as (
    select * from affected_creator_days
),

members as (
    select
        creator_accounts.creator_id,
        creator_accounts.platform,
        creator_accounts.account_id,
        affected.day_from,
        affected.day_from - cast($followers_window_days as integer) as look_from
    from core.creator_accounts
    inner join affected
        on creator_accounts.creator_id = affected.creator_id
),

creator_days as (
    select distinct
        members.creator_id,
        creator_engagement_daily.day
    from marts.creator_engagement_daily
    inner join members
        on
            creator_engagement_daily.platform = members.platform
            and creator_engagement_daily.account_id = members.account_id
            and creator_engagement_daily.day >= members.day_from
),

-- the members' observations from the window before day_from on: every value a day from
-- day_from on can use
recent as (
    select
        members.creator_id,
        account_daily.platform,
        account_daily.account_id,
        account_daily.day,
        account_daily.followers,
        coalesce(account_daily.followers_hidden, false) as followers_hidden
    from core.account_daily
    inner join members
        on
            account_daily.platform = members.platform
            and account_daily.account_id = members.account_id
            and account_daily.day >= members.look_from
),

-- each member's last follower statement before that window: too old to count on any rebuilt
-- day, kept so an account gone quiet is reported stale rather than vanishing
older as (
    select
        members.creator_id,
        account_daily.platform,
        account_daily.account_id,
        max(account_daily.day) as day,
        arg_max_null(account_daily.followers, account_daily.day) as followers,
        arg_max(coalesce(account_daily.followers_hidden, false), account_daily.day)
            as followers_hidden
    from core.account_daily
    inner join members
        on
            account_daily.platform = members.platform
            and account_daily.account_id = members.account_id
            and account_daily.day < members.look_from
    where account_daily.followers is not null or account_daily.followers_hidden
    group by members.creator_id, account_daily.platform, account_daily.account_id
),

statements as (
    select * from recent
    where followers is not null or followers_hidden
    union all
    select * from older
),

creator_account_days as (
    select
        creator_days.creator_id,
        creator_days.day,
        members.platform,
        members.account_id
    from creator_days
    inner join members
        on creator_days.creator_id = members.creator_id
),

as_of as (
    select
        creator_account_days.creator_id,
        creator_account_days.day,
        creator_account_days.platform,
        creator_account_days.account_id,
        statements.day as followers_day,
        statements.followers,
        statements.followers_hidden
    from creator_account_days
    asof left join statements
        on
            creator_account_days.creator_id = statements.creator_id
            and creator_account_days.platform = statements.platform
            and creator_account_days.account_id = statements.account_id
            and creator_account_days.day >= statements.day
),

last_seen as (
    select
        creator_account_days.creator_id,
        creator_account_days.day,
        creator_account_days.platform,
        creator_account_days.account_id,
        recent.day as seen_day
    from creator_account_days
    asof left join recent
        on
            creator_account_days.creator_id = recent.creator_id
            and creator_account_days.platform = recent.platform
            and creator_account_days.account_id = recent.account_id
            and creator_account_days.day >= recent.day
),

classified as (
    select
        as_of.creator_id,
        as_of.day,
        as_of.platform,
        as_of.account_id,
        as_of.followers_day,
        as_of.day - as_of.followers_day as followers_age_days,
        greatest(last_seen.seen_day, as_of.followers_day) as last_observed_day,
        case
            when as_of.followers_day is null then 'unknown'
            when as_of.day - as_of.followers_day > cast($followers_window_days as integer)
                then 'stale'
            when as_of.followers_hidden then 'hidden'
            else 'counted'
        end as status,
        as_of.followers
    from as_of
    inner join last_seen
        on
            as_of.creator_id = last_seen.creator_id
            and as_of.day = last_seen.day
            and as_of.platform = last_seen.platform
            and as_of.account_id = last_seen.account_id
    -- an account with no follower statement is listed while it is observed within the window
    where
        as_of.followers_day is not null
        or last_seen.seen_day >= as_of.day - cast($followers_window_days as integer)
),

final as (
    select
        classified.creator_id,
        classified.day,
        classified.platform,
        classified.account_id,
        classified.status,
        case when classified.status = 'counted' then classified.followers end as followers,
        classified.followers_day,
        classified.followers_age_days,
        classified.last_observed_day,
        case
            when classified.status = 'counted' then creator_engagement_daily.engagement_rate
        end as engagement_rate,
        cast($followers_window_days as integer) as followers_window_days,
        'followers_as_of_v1' as followers_rule
    from classified
    left join marts.creator_engagement_daily
        on
            classified.platform = creator_engagement_daily.platform
            and classified.account_id = creator_engagement_daily.account_id
            and classified.followers_day = creator_engagement_daily.day
)

select * from final
