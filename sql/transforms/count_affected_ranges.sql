-- how many account ranges this rebuild replaces
select count(*) as ranges
from affected_days
