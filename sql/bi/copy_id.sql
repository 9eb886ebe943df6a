-- the id the attached BI copy was published under
select copy_id
from bi_copy.meta.bi_copy_state
