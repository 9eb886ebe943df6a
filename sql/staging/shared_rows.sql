-- the staged rows of batches in files their staging passes shared: each row names its load,
-- and its position among that load's rows stands where a file of its own gives file_row_number
select
    staged.* exclude (_row),
    staged._row as file_row_number
from read_parquet($shared_paths) as staged
where staged._load_id in (select unnest(cast($shared_load_ids as varchar[])))
