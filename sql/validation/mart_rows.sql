-- rows of one mart in the audited ranges; rows with a null key belong to no range, and keys
-- are not enforced everywhere (DuckLake has no constraints), so they are audited too. A semi
-- join on the key (not an OR with the null checks) lets the ranges be matched by hash, so the
-- cost follows the ranges, not the mart's history; the two parts never hold the same row
select mart.*
from query_table($table) as mart
semi join audit_ranges
    on
        mart.platform = audit_ranges.platform
        and mart.account_id = audit_ranges.account_id
        and mart.day between audit_ranges.day_from and audit_ranges.day_to
union all
select mart.*
from query_table($table) as mart
where
    mart.platform is null
    or mart.account_id is null
    or mart.day is null
