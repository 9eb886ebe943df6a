-- the pending ranges are in the new copy; the record of the previous copy gives way to it
delete from meta.bi_pending_days;
delete from meta.bi_pending_creator_days;
delete from meta.bi_copy_state;
