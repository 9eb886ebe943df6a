-- whether a relation exists in the warehouse (one opened read-only may predate the migration
-- that adds it, and a new warehouse has none)
select count(*) > 0
from information_schema.tables
where
    table_catalog = current_database()
    and table_schema = $schema
    and table_name = $name
