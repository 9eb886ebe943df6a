-- a new BI copy names itself, so the next publish knows whether it may refresh it in place
create table bi_copy.meta.bi_copy_state as
select
    $copy_id as copy_id,
    current_timestamp as published_at
