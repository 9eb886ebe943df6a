-- the loads of one delivery (by their volume results) and when the first of them started
select
    loads.load_id,
    min(loads.started_at) over () as first_started
from meta.validations as validations
inner join meta.loads as loads
    on validations.load_id = loads.load_id
where
    validations.suite = $suite
    and json_extract_string(validations.kwargs, '$.delivery') = $delivery
