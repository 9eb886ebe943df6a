-- the staged rows of a group's entity are dropped once merged (or on failure)
drop table if exists publish_source
