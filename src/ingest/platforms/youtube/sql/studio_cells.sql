-- A Studio export's Table data.csv, every cell as text (c0, c1, ... in header order), read as
-- strictly as the reference CSV reader: a row with too many or too few cells is an error.
create temp table studio_cells as
select *
from read_csv(
    $path,
    header = false,
    skip = 1,
    auto_detect = false,
    delim = $delimiter,
    quote = '"',
    escape = '"',
    strict_mode = true,
    null_padding = false,
    encoding = 'utf-8',
    columns = $columns
)
