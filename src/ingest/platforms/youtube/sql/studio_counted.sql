-- the table's records (Total rows are not records), and whether a clean row has a publish time
select
    count(*) filter (where not total) as table_records,
    coalesce(bool_or(published_at is not null) filter (where clean), false) as has_published
from studio
