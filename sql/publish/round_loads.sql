-- the loads with rows in each round of a group whose keys repeat across its batches
select distinct _round, _load_id
from publish_source
