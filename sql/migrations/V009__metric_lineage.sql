-- metric lineage (issue 3): the registry in src/ingest/metric_lineage.toml, copied in by
-- ingest.lineage.sync; rows are replaced by id, so the tables always mirror the file

create table if not exists meta.metric_lineage (
    lineage_id varchar primary key,
    platform varchar not null,
    surface varchar not null,
    source_field varchar not null,
    metric varchar not null,
    entity varchar,
    valid_from date,
    valid_until date,
    continuous boolean not null,
    break_date date,
    rank integer not null,
    note varchar not null,
    fact varchar not null,
    confidence varchar not null
);

-- one row per surface whose series changes source or definition on a day
create table if not exists meta.metric_breaks (
    break_id varchar primary key,
    platform varchar not null,
    surface varchar not null,
    metric varchar not null,
    entity varchar,
    break_date date not null,
    switch_from date not null,
    continuous boolean not null,
    source_fields varchar not null,
    note varchar not null,
    fact varchar not null,
    confidence varchar not null
);

-- BI and the report join on (platform, metric, break_date) to mark a break instead of a trend;
-- a change is continuous only when every surface feeding the metric stays comparable
create or replace view marts.metric_breaks as
select
    platform,
    metric,
    break_date,
    bool_and(continuous) as continuous,
    string_agg(distinct note, ' | ' order by note) as note,
    min(switch_from) as switch_from,
    string_agg(distinct surface, ', ' order by surface) as surfaces,
    -- the weakest evidence of the surfaces speaks for the row
    case
        when bool_or(confidence = 'U') then 'U'
        when bool_or(confidence = 'C') then 'C'
        else 'D'
    end as confidence
from meta.metric_breaks
group by platform, metric, break_date;
