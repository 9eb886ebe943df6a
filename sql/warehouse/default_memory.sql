-- back to DuckDB's own memory limit once the loads are published: the marts rebuild may need
-- more than the publish limit, and DuckDB spills past its own
reset memory_limit
