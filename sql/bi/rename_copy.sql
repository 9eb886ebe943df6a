-- the refreshed BI copy takes its new id
update bi_copy.meta.bi_copy_state
set
    copy_id = $copy_id,
    published_at = current_timestamp
