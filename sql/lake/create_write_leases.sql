-- lake-only bookkeeping beside meta.schema_migrations: one row per scope writers claim
create table if not exists meta.write_leases (
    scope varchar not null,
    claims bigint not null,
    claimed_at timestamptz
)
