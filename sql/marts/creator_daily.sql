-- one row per creator and day from day_from on, for the creators in affected_creator_days,
-- rolled up from marts.creator_account_daily (rebuilt just before, for the same creators)
-- total_followers (followers_as_of_v1): the sum of each account's latest known count on or
--   before the day, if at most followers_window_days old (see creator_account_daily); hidden
--   and stale counts are left out, null when none counts. The days are the days any of the
--   creator's accounts was observed, so an account read weekly keeps counting between reads.
-- platforms, accounts_count: the accounts observed within the window; accounts_counted and
--   counted_accounts: those in the total; accounts_stale: those dropped as too old;
--   followers_oldest_age_days: the age in days of the oldest count in the total
-- engagement_rate (er_followers_blend_v1): a cross-platform blend, the followers-weighted mean
--   of the counted accounts' er_followers_v1 (of the day each count comes from),
--   sum(rate * followers) / sum(followers) over the accounts where both are known
-- tier: by total_followers, with the rule version's hysteresis as in creator_tier_daily
with recursive

affected as (
    select * from affected_creator_days
),

rules as (
    select
        tier,
        rank,
        min_followers,
        max_followers,
        cast(coalesce(hysteresis_pct, 0) as decimal(9, 4)) as margin_pct
    from meta.tier_rules
    where rule_version = $rule_version
),

accounts as (
    select
        creator_account_daily.*,
        creator_account_daily.last_observed_day
        >= creator_account_daily.day - creator_account_daily.followers_window_days as present
    from marts.creator_account_daily
    inner join affected
        on
            creator_account_daily.creator_id = affected.creator_id
            and creator_account_daily.day >= affected.day_from
),

creator_days as (
    select
        creator_id,
        day,
        string_agg(distinct platform, ',' order by platform)
            filter (where present) as platforms,
        count(distinct platform) filter (where present) as platforms_count,
        count(*) filter (where present) as accounts_count,
        count(*) filter (where status = 'counted') as accounts_counted,
        string_agg(platform || ':' || account_id, ',' order by platform, account_id)
            filter (where status = 'counted') as counted_accounts,
        count(*) filter (where status = 'stale') as accounts_stale,
        sum(followers) as total_followers,
        max(followers_age_days) filter (where status = 'counted') as followers_oldest_age_days,
        sum(engagement_rate * followers) filter (where engagement_rate is not null)
        / nullif(sum(followers) filter (where engagement_rate is not null), 0) as engagement_rate,
        any_value(followers_window_days) as followers_window_days,
        any_value(followers_rule) as followers_rule
    from accounts
    group by creator_id, day
),

seeds as (
    select
        creator_daily.creator_id,
        arg_max(rules.rank, creator_daily.day) as seed_rank
    from marts.creator_daily
    inner join affected
        on
            creator_daily.creator_id = affected.creator_id
            and creator_daily.day < affected.day_from
    inner join rules
        on creator_daily.tier = rules.tier
    group by creator_daily.creator_id
),

observed as (
    select
        creator_id,
        day,
        total_followers,
        row_number() over (partition by creator_id order by day) as step
    from creator_days
    where total_followers is not null
),

ranked as materialized (
    select
        observed.creator_id,
        observed.step,
        observed.day,
        seeds.seed_rank,
        (
            select max(rules.rank) from rules
            where
                observed.total_followers >= rules.min_followers
                and (
                    rules.max_followers is null
                    or observed.total_followers <= rules.max_followers
                )
        ) as raw_rank,
        (
            select max(rules.rank) from rules
            where
                observed.total_followers * 100
                >= rules.min_followers * (100 + rules.margin_pct)
        ) as up_rank,
        (
            select max(rules.rank) from rules
            where
                observed.total_followers * 100
                >= rules.min_followers * (100 - rules.margin_pct)
        ) as down_rank
    from observed
    left join seeds
        on observed.creator_id = seeds.creator_id
),

walk as (
    select
        creator_id,
        step,
        day,
        greatest(up_rank, least(down_rank, coalesce(seed_rank, raw_rank))) as tier_rank
    from ranked
    where step = 1
    union all
    select
        ranked.creator_id,
        ranked.step,
        ranked.day,
        greatest(ranked.up_rank, least(ranked.down_rank, walk.tier_rank)) as tier_rank
    from walk
    inner join ranked
        on
            walk.creator_id = ranked.creator_id
            and walk.step + 1 = ranked.step
),

final as (
    select
        creator_days.creator_id,
        creator_days.day,
        creator_days.platforms,
        creator_days.platforms_count,
        creator_days.accounts_count,
        creator_days.total_followers,
        held.tier,
        raw.tier as raw_tier,
        $rule_version as tier_rule_version,
        creator_days.engagement_rate,
        'er_followers_blend_v1' as engagement_formula,
        creator_days.accounts_counted,
        creator_days.counted_accounts,
        creator_days.accounts_stale,
        creator_days.followers_oldest_age_days,
        creator_days.followers_window_days,
        creator_days.followers_rule
    from creator_days
    left join ranked
        on
            creator_days.creator_id = ranked.creator_id
            and creator_days.day = ranked.day
    left join walk
        on
            creator_days.creator_id = walk.creator_id
            and creator_days.day = walk.day
    left join rules as held
        on walk.tier_rank = held.rank
    left join rules as raw
        on ranked.raw_rank = raw.rank
)

select * from final
