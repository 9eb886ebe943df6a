-- append an audit's results to meta.validations in one statement (on DuckLake every
-- autocommitted statement is a catalog snapshot): one row per position of the bound lists
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
    unnest($load_ids),
    unnest($suites),
    unnest($expectations),
    unnest($column_names),
    unnest($kwargs),
    unnest($severities),
    unnest($successes),
    unnest($observed_values),
    unnest($element_counts),
    unnest($unexpected_counts),
    $checked_at
