-- the extensions this DuckDB knows and whether each is installed on this machine
select
    extension_name,
    installed
from duckdb_extensions()
