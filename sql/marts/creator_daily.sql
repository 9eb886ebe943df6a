-- one row per creator and day from day_from on, for the creators in affected_creator_days,
-- rolled up from the account marts of the accounts the creators mapping ties to them
-- total_followers: the sum of the known followers of the accounts observed that day (hidden
--   counts are left out; null when none is known)
-- engagement_rate (er_followers_blend_v1): a cross-platform blend, the followers-weighted mean
--   of the accounts' er_followers_v1, sum(rate * followers) / sum(followers) over the accounts
--   where both are known; the per-platform columns use the same weighting within one platform
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

members as (
    select
        creator_accounts.creator_id,
        creator_accounts.platform,
        creator_accounts.account_id,
        affected.day_from
    from core.creator_accounts
    inner join affected
        on creator_accounts.creator_id = affected.creator_id
),

account_days as (
    select
        members.creator_id,
        creator_engagement_daily.platform,
        creator_engagement_daily.day,
        creator_engagement_daily.followers,
        creator_engagement_daily.engagement_rate,
        case
            when
                creator_engagement_daily.engagement_rate is not null
                and creator_engagement_daily.followers is not null
                then creator_engagement_daily.followers
        end as weight
    from marts.creator_engagement_daily
    inner join members
        on
            creator_engagement_daily.platform = members.platform
            and creator_engagement_daily.account_id = members.account_id
            and creator_engagement_daily.day >= members.day_from
),

platform_days as (
    select
        creator_id,
        platform,
        day,
        sum(followers) as followers,
        sum(engagement_rate * weight) / nullif(sum(weight), 0) as engagement_rate
    from account_days
    group by creator_id, platform, day
),

creator_days as (
    select
        creator_id,
        day,
        string_agg(distinct platform, ',' order by platform) as platforms,
        count(distinct platform) as platforms_count,
        count(*) as accounts_count,
        sum(followers) as total_followers,
        sum(engagement_rate * weight) / nullif(sum(weight), 0) as engagement_rate
    from account_days
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
        instagram.followers as instagram_followers,
        instagram.engagement_rate as instagram_engagement_rate,
        youtube.followers as youtube_followers,
        youtube.engagement_rate as youtube_engagement_rate,
        tiktok.followers as tiktok_followers,
        tiktok.engagement_rate as tiktok_engagement_rate,
        snapchat.followers as snapchat_followers,
        snapchat.engagement_rate as snapchat_engagement_rate
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
    left join platform_days as instagram
        on
            creator_days.creator_id = instagram.creator_id
            and creator_days.day = instagram.day
            and instagram.platform = 'instagram'
    left join platform_days as youtube
        on
            creator_days.creator_id = youtube.creator_id
            and creator_days.day = youtube.day
            and youtube.platform = 'youtube'
    left join platform_days as tiktok
        on
            creator_days.creator_id = tiktok.creator_id
            and creator_days.day = tiktok.day
            and tiktok.platform = 'tiktok'
    left join platform_days as snapchat
        on
            creator_days.creator_id = snapchat.creator_id
            and creator_days.day = snapchat.day
            and snapchat.platform = 'snapchat'
)

select * from final
