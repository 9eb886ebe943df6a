-- What decides whether the table can be staged natively: its rows, the blank ones (skipped by
-- the reference; a row whose Content shows a visible character is not blank, so the other
-- cells are looked at only where it does not), "Total" inside another Content value (which
-- the reference strips), and the lines of the Total rows.
select
    count(*) as table_rows,
    count(*) filter (
        where case
            when regexp_matches(coalesce(content, ''), '[!-~]') then false
            -- a visible character in some cell is one in all cells put together
            when regexp_matches(concat(*columns('^c[0-9]+$')), '[!-~]') then false
            else true
        end
    ) as blank,
    count(*) filter (where content <> 'Total' and contains(content, 'Total')) as odd_total,
    coalesce(list(line order by line) filter (where content = 'Total'), []) as total_lines
from studio_fields
