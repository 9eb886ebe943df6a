-- the BI copy now in place: the pending ranges are in it, later rebuilds apply to it
insert into meta.bi_copy_state (copy_id, marts_layout, published_at)
values ($copy_id, $marts_layout, current_timestamp)
