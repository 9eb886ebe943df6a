-- append an audit's results to meta.validations in one statement (on DuckLake every
-- autocommitted statement is a catalog snapshot), from the Arrow table registered as
-- audit_results: bound lists of thousands of values cost more to bind than to insert
insert into meta.validations (
    load_id,
    suite,
    expectation,
    column_name,
    kwargs,
    severity,
    success,
    observed_value,
    element_count,
    unexpected_count,
    checked_at
)
select
    load_id,
    suite,
    expectation,
    column_name,
    kwargs,
    severity,
    success,
    observed_value,
    element_count,
    unexpected_count,
    $checked_at
from audit_results
