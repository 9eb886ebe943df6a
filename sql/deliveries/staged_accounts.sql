-- the distinct accounts some staged rows of a delivery name; the caller names the rows
-- "staged" (see staging.staged_rows_sql)
select distinct account_id
from staged
where account_id is not null
