-- The optional fields some clean video carries at all, null or not: an explicit null and an
-- absent key both read as NULL in a struct, so the raw objects are asked.
select
    bool_or(json_exists(r, '$.create_time')) as create_time,
    bool_or(json_exists(r, '$.video_description')) as video_description,
    bool_or(json_exists(r, '$.video_duration')) as video_duration,
    bool_or(json_exists(r, '$.view_count')) as view_count,
    bool_or(json_exists(r, '$.like_count')) as like_count,
    bool_or(json_exists(r, '$.comment_count')) as comment_count,
    bool_or(json_exists(r, '$.share_count')) as share_count,
    bool_or(json_exists(r, '$.favourites_count')) as favourites_count
from (
    select unnest(data.videos) as r, generate_subscripts(data.videos, 1) as line
    from read_json(
        $path,
        format = 'unstructured',
        columns = {data: 'STRUCT(videos JSON[])'},
        maximum_object_size = $max_object_size
    )
)
where line in (select line from videos where clean)
