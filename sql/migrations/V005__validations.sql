-- audit results: one row per expectation per audit of a load (write-audit-publish, issue 5)
create table if not exists meta.validations (
    load_id varchar not null,
    suite varchar not null,
    expectation varchar not null,
    column_name varchar,
    kwargs varchar,
    severity varchar not null,
    success boolean not null,
    observed_value varchar,
    element_count bigint,
    unexpected_count bigint,
    checked_at timestamptz not null
);
