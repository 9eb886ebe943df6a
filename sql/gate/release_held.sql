-- the held ranges an audit just passed (later holds, if any, wait for their own audit)
delete from meta.mart_audit_holds
where held_at <= $held_until
