-- the ranges the marts audit must pass before BI may take them, one covering range per account
select
    platform,
    account_id,
    min(day_from) as day_from,
    max(day_to) as day_to
from meta.mart_audit_holds
group by platform, account_id
order by platform, account_id
