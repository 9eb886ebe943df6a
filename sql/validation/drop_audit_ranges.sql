-- the marts audit's ranges, once it is done with them
drop table if exists audit_ranges
