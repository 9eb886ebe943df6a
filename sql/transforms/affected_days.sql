-- the account-day ranges this rebuild covers: pending ranges, stretched by the days that only
-- the spike baseline reaches (a follower change on day D sits in the baselines up to D + window + 1)
with

pending as (
    select * from meta.pending_mart_days
),

final as (
    select
        platform,
        account_id,
        min(day_from) as day_from,
        max(day_to) + cast($extra_reach_days as integer) as day_to
    from pending
    group by platform, account_id
)

select * from final
