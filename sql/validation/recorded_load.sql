-- what re-validation needs to know of a load
select
    platform,
    format,
    account_id,
    rows_loaded,
    started_at,
    status
from meta.loads
where load_id = $load_id
