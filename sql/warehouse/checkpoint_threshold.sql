-- each checkpoint rewrites the primary-key indexes whole, so DuckDB's default (one per 16 MB of
-- log) made a run of many pages checkpoint again and again; data not yet checkpointed stays in
-- memory, so the bound is 128 MB (5M rows: < 1 GiB)
set checkpoint_threshold = '128MB'
