-- earlier published deliveries of the same accounts, newest first: a delivery is the loads
-- sharing a volume result's delivery id; a load audited before deliveries were recorded is a
-- delivery of its own, and one audited before its accounts were recorded is matched by the
-- account its file named
with

loads as (
    select * from meta.loads
),

volume_results as (
    select * from meta.validations
    where suite = $suite and severity = 'critical'
),

deliveries as (
    select
        json_extract_string(any_value(volume_results.kwargs), '$.landing_day') as landing_day,
        max(coalesce(volume_results.element_count, loads.rows_loaded)) as delivered_rows,
        coalesce(
            bool_or(json_extract_string(volume_results.kwargs, '$.pulled') = 'true'), false
        ) as pulled,
        max(loads.started_at) as last_started
    from loads
    left join volume_results
        on loads.load_id = volume_results.load_id
    where
        loads.platform = $platform
        and loads.format = $format
        and coalesce(json_extract_string(volume_results.kwargs, '$.accounts'), loads.account_id)
        is not distinct from $account
        and loads.status = 'published'
        and loads.started_at < $started
        and not list_contains($exclude, loads.load_id)
    group by coalesce(json_extract_string(volume_results.kwargs, '$.delivery'), loads.load_id)
)

select * from deliveries
order by last_started desc
limit $limit
