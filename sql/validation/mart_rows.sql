-- rows of one mart in the audited ranges; rows with a null key belong to no range, and keys
-- are not enforced everywhere (DuckLake has no constraints), so they are audited too
select mart.*
from query_table($table) as mart
where
    mart.platform is null
    or mart.account_id is null
    or mart.day is null
    or exists (
        select 1
        from audit_ranges
        where
            mart.platform = audit_ranges.platform
            and mart.account_id = audit_ranges.account_id
            and mart.day between audit_ranges.day_from and audit_ranges.day_to
    )
