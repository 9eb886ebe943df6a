-- a mapping load reports the accounts whose creator it changed as its updated rows
update meta.loads
set rows_updated = $changed
where load_id = $load_id
