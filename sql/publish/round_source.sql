-- one round of a group's rows: the n-th batch of every key, so keys are distinct within it
create or replace temp table publish_round as
select *
from publish_source
where _round = $round
