-- DuckDB's memory limit ($limit): the writer's while it publishes loads (INGEST_WRITER_MEMORY_MIB),
-- then the one it had before. DuckDB otherwise keeps every table block a run writes cached, up
-- to 80% of the machine's memory (a 5M-row run of API pages held 900 MB more by its end); past
-- the limit it drops cached blocks and spills to a folder beside the file, and the primary-key
-- indexes are paged like any block
set memory_limit = $limit
