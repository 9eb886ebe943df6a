-- the migration log the migrations are checked against; created before any migration runs
create schema if not exists meta;
create table if not exists meta.schema_migrations (
    version varchar primary key,
    name varchar not null,
    checksum varchar not null,
    applied_at timestamptz not null default current_timestamp
)
