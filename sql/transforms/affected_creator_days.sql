-- the creators whose daily rollups this rebuild replaces, from their first affected day on:
-- creators of the affected accounts, and creators an account left when the mapping changed.
-- Every later day is replaced too, which covers the days an account's count carries into
-- (day_from up to the window's length on, until its next observation) and the tier walk
with

affected as (
    select * from affected_days
),

by_account as (
    select
        creator_accounts.creator_id,
        affected.day_from
    from affected
    inner join core.creator_accounts
        on
            affected.platform = creator_accounts.platform
            and affected.account_id = creator_accounts.account_id
),

by_mapping as (
    select
        creator_id,
        day_from
    from meta.pending_creator_days
),

combined as (
    select * from by_account
    union all
    select * from by_mapping
),

final as (
    select
        creator_id,
        min(day_from) as day_from
    from combined
    group by creator_id
)

select * from final
