-- the type of the connection's default catalog: 'ducklake' on the lake, 'duckdb' on a file
select type
from duckdb_databases()
where database_name = current_database()
