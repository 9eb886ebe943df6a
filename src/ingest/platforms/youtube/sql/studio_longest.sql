-- the longest cell of each column, for the reference reader's field size limit
select max(length(columns('^c[0-9]+$')))
from studio_cells
