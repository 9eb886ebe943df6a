select count(*) > 0
from information_schema.tables
where table_schema = 'meta' and table_name = 'token_checks'
