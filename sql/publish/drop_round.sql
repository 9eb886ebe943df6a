-- the last round's rows, once a group's rounds are merged
drop table if exists publish_round
