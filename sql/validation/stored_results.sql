-- every result stored for a load, oldest audit first
select
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
from meta.validations
where load_id = $load_id
order by checked_at, suite
