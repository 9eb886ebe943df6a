-- The optional fields some clean video of a page carries at all, null or not: an explicit
-- null and an absent key both read as NULL in a struct, so the raw objects are asked.
select
    raw.member,
    bool_or(json_exists(r, '$.create_time')) as create_time,
    bool_or(json_exists(r, '$.video_description')) as video_description,
    bool_or(json_exists(r, '$.video_duration')) as video_duration,
    bool_or(json_exists(r, '$.view_count')) as view_count,
    bool_or(json_exists(r, '$.like_count')) as like_count,
    bool_or(json_exists(r, '$.comment_count')) as comment_count,
    bool_or(json_exists(r, '$.share_count')) as share_count,
    bool_or(json_exists(r, '$.favourites_count')) as favourites_count
from (
    select m.member, unnest(data.videos) as r, generate_subscripts(data.videos, 1) as line
    from read_json(
        $paths,
        filename = true,
        format = 'unstructured',
        columns = {data: 'STRUCT(videos JSON[])'},
        maximum_object_size = $max_object_size
    )
    join members as m on m.path = filename
) as raw
semi join videos as v on v.member = raw.member and v.line = raw.line and v.clean
group by raw.member
