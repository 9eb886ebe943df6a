-- when the newest range was held: an audit that passes releases the holds up to that moment
select max(held_at) as held_at
from meta.mart_audit_holds
