-- loads the audit blocked, and audit results that failed (critical and warning)
select
    (select count(*) from meta.loads where status = 'failed') as blocked_loads,
    count(*) filter (where severity = 'critical') as critical_failures,
    count(*) filter (where severity = 'warning') as warnings
from meta.validations
where not success
