-- accounts whose creator differs between mapping_before (a temp copy of core.creator_accounts
-- taken before the mapping was replaced) and the mapping now, with the creator on each side
with

before as (
    select * from mapping_before
),

after as (
    select * from core.creator_accounts
),

removed as (
    select
        creator_id,
        platform,
        account_id
    from before
    except
    select
        creator_id,
        platform,
        account_id
    from after
),

added as (
    select
        creator_id,
        platform,
        account_id
    from after
    except
    select
        creator_id,
        platform,
        account_id
    from before
),

final as (
    select * from removed
    union
    select * from added
)

select * from final
