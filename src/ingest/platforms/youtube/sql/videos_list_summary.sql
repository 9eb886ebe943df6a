-- Per response: whether it can be staged natively, its items, and the lines of those left to
-- the reference row builder. Not natively when the file or an item is refused, or when it may
-- nest deeper than $max_depth: an item inside the response's object and items list nests at
-- most 2 + its brackets deep; the rest of the file at most as deep as it has brackets.
select
    filename,
    not bool_or(refused)
    and coalesce(max(openings) filter (where line > 0), 0) + 2 <= $max_depth
    and max(openings) filter (where line = 0)
    - coalesce(sum(openings) filter (where line > 0), 0) <= $max_depth as native,
    count(*) filter (where line > 0) as items,
    coalesce(list(line order by line) filter (where line > 0 and not clean), []) as odd_lines
from yt_items
group by filename
order by filename
