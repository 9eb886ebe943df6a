-- the loads behind the held ranges, for the audit's report
select distinct load_id
from meta.mart_audit_holds
order by load_id
