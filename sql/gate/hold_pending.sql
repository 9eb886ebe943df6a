-- every range this rebuild replaces is held until an audit of it passes
insert into meta.mart_audit_holds
select
    pending.platform,
    pending.account_id,
    pending.day_from,
    pending.day_to,
    pending.load_id,
    current_timestamp as held_at
from meta.pending_mart_days as pending
where not exists (
    select 1
    from meta.mart_audit_holds as held
    where
        held.platform = pending.platform
        and held.account_id = pending.account_id
        and held.day_from = pending.day_from
        and held.day_to = pending.day_to
        and held.load_id = pending.load_id
)
