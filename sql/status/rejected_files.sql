-- the latest rejected files, newest first, with the reason (it names file, line and field)
select
    load_id,
    platform,
    source_file,
    message,
    parser_version,
    started_at
from meta.loads
where status = 'rejected'
order by started_at desc, load_id desc
limit $limit
