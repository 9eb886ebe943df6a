-- the rows of one core table that still carry a load's id
select * from query_table($table)
where load_id = $load_id
