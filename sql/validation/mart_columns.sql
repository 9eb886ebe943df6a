-- the columns of one mart table, in table order
select column_name
from information_schema.columns
where table_schema = 'marts' and table_name = $name
order by ordinal_position
