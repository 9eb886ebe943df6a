-- the BI copy the warehouse last published and the marts layout it was made under
select
    copy_id,
    marts_layout
from meta.bi_copy_state
