-- the relations of the marts schema in the database in use (the BI copy, or the lake), by name
select table_name
from information_schema.tables
where table_catalog = current_database()
  and table_schema = 'marts'
order by table_name
