-- Of the pages research_video_head.sql found usable ($usable), those staged natively: every
-- object's keys checked (research_video_videos.sql), and nested no deeper than $max_depth. A
-- value nests at most as deep as it has brackets: counted per video, and for the rest of the
-- page (its raw text's less its videos'). The braces outside the videos must be no more than
-- the objects whose keys were checked there (the page, data, error).
select p.member
from pages as p
left join (
    select
        member,
        bool_and(keys_checked) as keys_checked,
        max(openings) as deepest,
        sum(braces) as braces,
        sum(openings) as openings
    from videos
    group by member
) as v using (member)
where p.member in (select unnest(cast($usable as integer[])))
    and coalesce(v.keys_checked, true)
    and p.braces - coalesce(v.braces, 0) = p.known_objects
    and p.openings - coalesce(v.openings, 0) <= $max_depth
    -- inside the page, data and the videos list
    and coalesce(v.deepest, 0) + 3 <= $max_depth
order by p.member
