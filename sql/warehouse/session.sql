-- timestamps are read and written in UTC whatever the machine's zone
set TimeZone = 'UTC';
-- each staged Parquet file is read once: DuckDB's cache of external files would only hold
-- every file a run publishes in memory (hundreds of MB for a run of API pages)
set enable_external_file_cache = false
