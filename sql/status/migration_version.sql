-- the newest migration the warehouse applied
select max(version) as version
from meta.schema_migrations
