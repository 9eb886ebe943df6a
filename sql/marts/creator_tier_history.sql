-- one row per stretch of consecutive observed days in one tier, for the affected accounts;
-- valid_to is the first day of the next stretch (exclusive), null while the stretch goes on.
-- incremental (transforms/tier_history_rebuild_from): the daily tiers changed from day_from on,
-- so only the stretch holding the last tier day before day_from (previous) and the later ones
-- are emitted: the tier days from day_from on continue previous while they keep its tier, then
-- start new stretches; previous keeps its start and takes the start of the next stretch as its
-- end
with

cuts as (
    select * from tier_history_rebuild_from
),

previous as (
    select
        creator_tier_history.platform,
        creator_tier_history.account_id,
        creator_tier_history.tier,
        creator_tier_history.valid_from,
        creator_tier_history.tier_rule_version
    from marts.creator_tier_history
    inner join cuts
        on
            creator_tier_history.platform = cuts.platform
            and creator_tier_history.account_id = cuts.account_id
            and creator_tier_history.valid_from = cuts.prev_from
),

tier_days as (
    select
        creator_tier_daily.platform,
        creator_tier_daily.account_id,
        creator_tier_daily.day,
        creator_tier_daily.tier,
        creator_tier_daily.tier_rule_version
    from marts.creator_tier_daily
    inner join cuts
        on
            creator_tier_daily.platform = cuts.platform
            and creator_tier_daily.account_id = cuts.account_id
            and creator_tier_daily.day >= cuts.day_from
    where creator_tier_daily.tier is not null
),

changes as (
    select
        tier_days.*,
        case
            when tier_days.tier is distinct from coalesce(
                lag(tier_days.tier) over (
                    partition by tier_days.platform, tier_days.account_id order by tier_days.day
                ),
                previous.tier
            ) then 1
            else 0
        end as starts_stretch
    from tier_days
    left join previous
        on
            tier_days.platform = previous.platform
            and tier_days.account_id = previous.account_id
),

numbered as (
    select
        *,
        sum(starts_stretch) over (
            partition by platform, account_id order by day rows unbounded preceding
        ) as stretch
    from changes
),

new_stretches as (
    select
        platform,
        account_id,
        tier,
        min(day) as valid_from,
        any_value(tier_rule_version) as tier_rule_version
    from numbered
    -- stretch 0 is previous running on
    where stretch > 0
    group by platform, account_id, tier, stretch
),

stretches as (
    select * from previous
    union all
    select
        platform,
        account_id,
        tier,
        valid_from,
        tier_rule_version
    from new_stretches
),

final as (
    select
        platform,
        account_id,
        tier,
        valid_from,
        lead(valid_from) over (partition by platform, account_id order by valid_from) as valid_to,
        tier_rule_version
    from stretches
)

select * from final
