-- the column layout of the marts, as one digest: a BI copy made under another layout (a
-- migration changed a mart) cannot be refreshed in place and is rebuilt whole
select
    md5(
        string_agg(
            table_name || '.' || column_name || ' ' || data_type,
            ', '
            order by table_name, column_index
        )
    ) as layout
from duckdb_columns()
where
    database_name = current_database()
    and schema_name = 'marts'
