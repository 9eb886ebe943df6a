-- the rows left to the reference row builder, with their cells in header order
select line, record, cells
from studio
where not clean and not total
order by line
