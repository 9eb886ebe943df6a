-- the rows left to the reference row builder, with their cells in header order
select line, record, columns('^c[0-9]+$')
from studio
where not clean and not total
order by line
