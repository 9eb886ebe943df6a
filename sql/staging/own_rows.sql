-- the staged rows of batches that have files of their own, each with its batch's load id and
-- its position in its file ($own_paths and $own_load_ids are parallel lists)
select
    staged.* exclude (filename),
    members.load_id as _load_id
from read_parquet($own_paths, filename = true, file_row_number = true) as staged
inner join (
    select
        unnest(cast($own_paths as varchar[])) as path,
        unnest(cast($own_load_ids as varchar[])) as load_id
) as members
    on staged.filename = members.path
