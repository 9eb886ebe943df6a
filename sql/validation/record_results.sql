-- append an audit's results to meta.validations in one statement (on DuckLake every
-- autocommitted statement is a catalog snapshot), from the Arrow table registered as
-- audit_results, whose columns are the table's: bound lists of thousands of values cost more
-- to bind than to insert
insert into meta.validations by name
select
    *,
    $checked_at as checked_at
from audit_results
