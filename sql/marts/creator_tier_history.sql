-- one row per stretch of consecutive observed days in one tier, for the affected accounts;
-- valid_to is the first day of the next stretch (exclusive), null while the stretch goes on
with

affected_accounts as (
    select distinct
        platform,
        account_id
    from affected_days
),

tier_days as (
    select
        creator_tier_daily.platform,
        creator_tier_daily.account_id,
        creator_tier_daily.day,
        creator_tier_daily.tier,
        creator_tier_daily.tier_rule_version
    from marts.creator_tier_daily
    inner join affected_accounts
        on
            creator_tier_daily.platform = affected_accounts.platform
            and creator_tier_daily.account_id = affected_accounts.account_id
    where creator_tier_daily.tier is not null
),

changes as (
    select
        *,
        case
            when tier is distinct from lag(tier) over (
                partition by platform, account_id order by day
            ) then 1
            else 0
        end as starts_stretch
    from tier_days
),

numbered as (
    select
        *,
        sum(starts_stretch) over (
            partition by platform, account_id order by day rows unbounded preceding
        ) as stretch
    from changes
),

stretches as (
    select
        platform,
        account_id,
        tier,
        stretch,
        min(day) as valid_from,
        any_value(tier_rule_version) as tier_rule_version
    from numbered
    group by platform, account_id, tier, stretch
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
