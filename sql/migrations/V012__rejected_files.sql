-- issue 13: a file that cannot be used is recorded as a load with status 'rejected', and every
-- load names the parser version that read it and the landing day its bytes were filed under, so
-- a replay can tell an identical load already published (skipped) or rejected by the same
-- parser (skipped unless asked) from one a newer parser should try again
alter table meta.loads add column if not exists parser_version varchar;
alter table meta.loads add column if not exists landing_day date;
