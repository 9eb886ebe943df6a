-- the videos read, and the lines of those left to the reference row builder
select count(*) as videos, list(line order by line) filter (where not clean) as odd_lines
from videos
