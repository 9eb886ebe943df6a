-- what a replay compares: the parser version that read the file and its landing day
update meta.loads
set
    parser_version = $parser_version,
    landing_day = $landing_day
where load_id = $load_id
