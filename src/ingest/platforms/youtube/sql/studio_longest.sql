-- the longest cell, for the reference reader's field size limit
select max(list_max(list_transform(cells, lambda c: length(c)))) as longest
from studio_fields
