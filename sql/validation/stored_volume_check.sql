-- the latest critical volume result stored for a load: its delivery and the rows it counted
select
    kwargs,
    element_count
from meta.validations
where load_id = $load_id and suite = $suite and severity = 'critical'
order by checked_at desc
limit 1
