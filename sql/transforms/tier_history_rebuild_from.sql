-- where each affected account's tier history is rebuilt from: creator_tier_daily changed from
-- day_from on, so the stretches before day_from stand, except that the one holding the last
-- tier day before day_from (the latest one starting before it, prev_from) may now run on or end
-- elsewhere; null prev_from: no stretch starts before day_from
with

affected as (
    select * from affected_days
),

final as (
    select
        affected.platform,
        affected.account_id,
        affected.day_from,
        max(creator_tier_history.valid_from) as prev_from
    from affected
    left join marts.creator_tier_history
        on
            affected.platform = creator_tier_history.platform
            and affected.account_id = creator_tier_history.account_id
            and creator_tier_history.valid_from < affected.day_from
    group by affected.platform, affected.account_id, affected.day_from
)

select * from final
