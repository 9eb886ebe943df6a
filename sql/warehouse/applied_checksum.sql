-- the checksum a migration had when it was applied, if it was
select checksum
from meta.schema_migrations
where version = $version
