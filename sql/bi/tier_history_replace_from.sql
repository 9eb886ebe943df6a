-- where each pending account's tier history in the BI copy is replaced from: the stretches
-- starting before the first rebuilt day stand as they are in the copy, except the last of them,
-- whose end may have moved (see transforms/tier_history_rebuild_from); the copy still holds the history
-- as it was before the rebuilds, so it tells where that stretch starts
with

pending as (
    select * from ranges_to_copy
),

final as (
    select
        pending.platform,
        pending.account_id,
        coalesce(max(creator_tier_history.valid_from), any_value(pending.day_from)) as cut
    from pending
    left join bi_copy.marts.creator_tier_history
        on
            pending.platform = creator_tier_history.platform
            and pending.account_id = creator_tier_history.account_id
            and creator_tier_history.valid_from < pending.day_from
    group by pending.platform, pending.account_id
)

select * from final
