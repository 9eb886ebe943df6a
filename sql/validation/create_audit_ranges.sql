-- the account-day ranges a marts audit reads ($platforms, $account_ids, $days_from and
-- $days_to are parallel lists)
create or replace temp table audit_ranges as

with

ranges as (
    select
        unnest($platforms) as platform,
        unnest($account_ids) as account_id,
        unnest($days_from) as day_from,
        unnest($days_to) as day_to
),

final as (
    select
        cast(platform as varchar) as platform,
        cast(account_id as varchar) as account_id,
        cast(day_from as date) as day_from,
        cast(day_to as date) as day_to
    from ranges
)

select * from final
