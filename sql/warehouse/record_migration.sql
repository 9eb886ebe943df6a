-- a migration applied now
insert into meta.schema_migrations (version, name, checksum)
values ($version, $name, $checksum)
