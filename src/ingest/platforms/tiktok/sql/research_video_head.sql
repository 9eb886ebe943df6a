-- a page is usable natively when it is exactly one v2 object with videos and no error
select member
from pages
group by member
having count(*) = 1 and bool_and(has_videos) and bool_and(ok)
