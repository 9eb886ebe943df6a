-- published loads per platform, as BI sees them (the --json object of ingest demo)
select
    platform,
    count(*) as files,
    sum(rows_read) as rows_read,
    sum(rows_loaded) as rows_loaded,
    sum(rows_quarantined) as rows_quarantined
from meta.loads
where status = 'published'
group by platform
order by platform
