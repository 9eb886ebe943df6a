-- creators to roll up again from the first day of data of an account that joined or left them
insert into meta.pending_creator_days
with

changed as (
    select * from changed_accounts
),

first_days as (
    select
        changed.creator_id,
        min(account_daily.day) as day_from
    from changed
    inner join core.account_daily
        on
            changed.platform = account_daily.platform
            and changed.account_id = account_daily.account_id
    group by changed.creator_id
),

final as (
    select
        creator_id,
        day_from,
        $load_id as load_id
    from first_days
)

select * from final
