-- whether a warehouse table ($table, as schema.name) and the same table in the attached BI copy
-- have the same columns in the same order and types
select
    coalesce(
        (
            select
                list(column_name || ' ' || data_type order by column_index)
            from duckdb_columns()
            where
                database_name = current_database()
                and schema_name || '.' || table_name = $table
        )
        = (
            select
                list(column_name || ' ' || data_type order by column_index)
            from duckdb_columns()
            where
                database_name = 'bi_copy'
                and schema_name || '.' || table_name = $table
        ),
        false
    ) as same
