-- the pending ranges a rebuild consumed, in its own transaction: a crash leaves them pending
delete from meta.pending_mart_days;
delete from meta.pending_creator_days;
