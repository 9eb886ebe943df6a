-- a load's outcome and what its merge did, once its transaction is about to commit
update meta.loads
set
    status = $status,
    rows_inserted = $inserted,
    rows_updated = $updated,
    rows_unchanged = $unchanged,
    finished_at = $finished
where load_id = $load_id
