-- tier per account-day under one rule version; unknown followers (hidden) give no tier
with

affected as (
    select * from affected_days
),

rules as (
    select
        tier,
        min_followers,
        max_followers,
        rule_version
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
            and account_daily.day between affected.day_from and affected.day_to
),

final as (
    select
        account_days.platform,
        account_days.account_id,
        accounts.handle,
        account_days.day,
        account_days.followers,
        rules.tier,
        $rule_version as tier_rule_version
    from account_days
    left join rules
        on
            account_days.followers >= rules.min_followers
            and (rules.max_followers is null or account_days.followers <= rules.max_followers)
    left join core.accounts
        on
            account_days.platform = accounts.platform
            and account_days.account_id = accounts.account_id
)

select * from final
