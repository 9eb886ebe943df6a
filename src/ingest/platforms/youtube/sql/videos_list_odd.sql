-- Per file, what is not plainly staged: the file's own row (with the items read), the items
-- left to the reference row builder, and any row refusing the file.
select
    member,
    line,
    items_read,
    refused
from yt_items
where line = 0 or refused or not clean
order by member, line
