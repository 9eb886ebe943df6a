-- Per usable page: the videos read, the lines of those left to the reference row builder, and
-- then the optional fields some clean video carries with a value (null when none is clean).
select
    member,
    count(v.line) as videos,
    list(v.line order by v.line) filter (where not v.clean) as odd_lines,
    bool_or(v.create_time is not null) filter (where v.clean) as create_time,
    bool_or(v.video_description is not null) filter (where v.clean) as video_description,
    bool_or(v.video_duration is not null) filter (where v.clean) as video_duration,
    bool_or(v.view_count is not null) filter (where v.clean) as view_count,
    bool_or(v.like_count is not null) filter (where v.clean) as like_count,
    bool_or(v.comment_count is not null) filter (where v.clean) as comment_count,
    bool_or(v.share_count is not null) filter (where v.clean) as share_count,
    bool_or(v.favourites_count is not null) filter (where v.clean) as favourites_count
from (select unnest(cast($usable as integer[])) as member) as usable
left join videos as v using (member)
group by member
