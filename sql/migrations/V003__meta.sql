create table if not exists meta.loads (
    load_id varchar primary key,
    platform varchar,
    format varchar,
    source_file varchar,
    source_sha256 varchar,
    account_id varchar,
    status varchar not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_inserted bigint,
    rows_updated bigint,
    rows_unchanged bigint,
    message varchar,
    notes varchar,
    started_at timestamptz not null,
    finished_at timestamptz
);

create table if not exists quarantine.rows (
    load_id varchar not null,
    platform varchar,
    source_file varchar,
    line bigint,
    field varchar,
    reason varchar not null,
    raw varchar,
    quarantined_at timestamptz not null
);

-- account-day ranges whose marts must be rebuilt; published with the data, consumed by marts
create table if not exists meta.pending_mart_days (
    platform varchar not null,
    account_id varchar not null,
    day_from date not null,
    day_to date not null,
    load_id varchar not null
);

create table if not exists meta.tier_rules (
    rule_version varchar not null,
    tier varchar not null,
    min_followers bigint not null,
    max_followers bigint,
    rank integer not null,
    primary key (rule_version, tier)
);
