-- how many ranges are still held back from BI
select count(*) as held
from meta.mart_audit_holds
