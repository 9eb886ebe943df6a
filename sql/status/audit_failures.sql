-- the latest loads their audit blocked (status failed), with the critical expectations that
-- failed
with

blocked as (
    select
        load_id,
        platform,
        format,
        source_file,
        message,
        started_at
    from meta.loads
    where status = 'failed'
    order by started_at desc, load_id desc
    limit $limit
),

failed_checks as (
    select
        validations.load_id,
        string_agg(
            distinct validations.suite || '.' || validations.expectation
            || coalesce('(' || validations.column_name || ')', ''),
            ', '
        ) as expectations
    from meta.validations as validations
    inner join blocked on validations.load_id = blocked.load_id
    where not validations.success and validations.severity = 'critical'
    group by validations.load_id
),

final as (
    select
        blocked.*,
        failed_checks.expectations
    from blocked
    left join failed_checks on blocked.load_id = failed_checks.load_id
)

select * from final
order by started_at desc, load_id desc
