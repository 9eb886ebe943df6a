-- the file is usable natively when it is exactly one v2 object with videos and no error
select count(*) as objects, bool_and(has_videos) as has_videos, bool_and(ok) as ok
from pages
