-- the memory limit DuckDB's buffer manager holds to now, as DuckDB writes it ('18.7 GiB')
select memory_limit from pragma_database_size() limit 1
