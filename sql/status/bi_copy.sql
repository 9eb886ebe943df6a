-- when the BI copy was last published
select published_at
from meta.bi_copy_state
