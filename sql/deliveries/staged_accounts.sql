-- the distinct accounts the staged rows of some files of a delivery name
select distinct account_id
from read_parquet($paths, union_by_name = true)
where account_id is not null
