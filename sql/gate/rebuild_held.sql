-- the held ranges are rebuilt again with the pending ones, so the audit that may release them
-- sees rows a rebuild made, never only the rows that failed
insert into meta.pending_mart_days
select
    held.platform,
    held.account_id,
    held.day_from,
    held.day_to,
    held.load_id
from meta.mart_audit_holds as held
where not exists (
    select 1
    from meta.pending_mart_days as pending
    where
        pending.platform = held.platform
        and pending.account_id = held.account_id
        and pending.day_from = held.day_from
        and pending.day_to = held.day_to
        and pending.load_id = held.load_id
)
