-- tier per account-day under one rule version; unknown followers (hidden) give no tier
-- raw_tier: the tier whose bounds hold the day's followers
-- tier: raw_tier with the version's hysteresis (m = hysteresis_pct / 100). up = the highest tier
--   whose lower bound * (1 + m) the followers reach, down = the highest tier whose lower bound
--   * (1 - m) they reach; the tier is the previous observed day's tier held between down and up
--   (greatest(up, least(down, previous))). the first observed day takes raw_tier; with m = 0,
--   up = down = raw_tier. a tier carries forward, so every day from day_from on is rebuilt and
--   the walk starts from the stored tier of the last day before day_from (seeds)
with recursive

affected as (
    select * from affected_days
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
            and account_daily.day >= affected.day_from
),

-- the tier of the last observed day before day_from is the tier of the latest tier history
-- stretch starting before day_from (the history is rebuilt after this model, so it still
-- describes the days before day_from, which this rebuild keeps); reading the stretches rather
-- than every stored day keeps the cost off the length of the history
seeds as (
    select
        creator_tier_history.platform,
        creator_tier_history.account_id,
        arg_max(rules.rank, creator_tier_history.valid_from) as seed_rank
    from marts.creator_tier_history
    inner join affected
        on
            creator_tier_history.platform = affected.platform
            and creator_tier_history.account_id = affected.account_id
            and creator_tier_history.valid_from < affected.day_from
    inner join rules
        on creator_tier_history.tier = rules.tier
    group by creator_tier_history.platform, creator_tier_history.account_id
),

observed as (
    select
        platform,
        account_id,
        day,
        followers,
        row_number() over (partition by platform, account_id order by day) as step
    from account_days
    where followers is not null
),

ranked as materialized (
    select
        observed.platform,
        observed.account_id,
        observed.step,
        observed.day,
        seeds.seed_rank,
        (
            select max(rules.rank) from rules
            where
                observed.followers >= rules.min_followers
                and (rules.max_followers is null or observed.followers <= rules.max_followers)
        ) as raw_rank,
        (
            select max(rules.rank) from rules
            where observed.followers * 100 >= rules.min_followers * (100 + rules.margin_pct)
        ) as up_rank,
        (
            select max(rules.rank) from rules
            where observed.followers * 100 >= rules.min_followers * (100 - rules.margin_pct)
        ) as down_rank
    from observed
    left join seeds
        on
            observed.platform = seeds.platform
            and observed.account_id = seeds.account_id
),

walk as (
    select
        platform,
        account_id,
        step,
        day,
        greatest(up_rank, least(down_rank, coalesce(seed_rank, raw_rank))) as tier_rank
    from ranked
    where step = 1
    union all
    select
        ranked.platform,
        ranked.account_id,
        ranked.step,
        ranked.day,
        greatest(ranked.up_rank, least(ranked.down_rank, walk.tier_rank)) as tier_rank
    from walk
    inner join ranked
        on
            walk.platform = ranked.platform
            and walk.account_id = ranked.account_id
            and walk.step + 1 = ranked.step
),

final as (
    select
        account_days.platform,
        account_days.account_id,
        accounts.handle,
        account_days.day,
        account_days.followers,
        held.tier,
        $rule_version as tier_rule_version,
        raw.tier as raw_tier
    from account_days
    left join ranked
        on
            account_days.platform = ranked.platform
            and account_days.account_id = ranked.account_id
            and account_days.day = ranked.day
    left join walk
        on
            account_days.platform = walk.platform
            and account_days.account_id = walk.account_id
            and account_days.day = walk.day
    left join rules as held
        on walk.tier_rank = held.rank
    left join rules as raw
        on ranked.raw_rank = raw.rank
    left join core.accounts
        on
            account_days.platform = accounts.platform
            and account_days.account_id = accounts.account_id
)

select * from final
