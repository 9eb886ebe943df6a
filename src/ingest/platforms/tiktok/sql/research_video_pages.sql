-- Research API video/query pages, each video field read as JSON so that its JSON type can be
-- checked, never silently cast. One row per well-formed v2 object, with its page's member.
create temp table pages as
select
    m.member,
    data.videos as videos,
    data.videos is not null as has_videos,
    error is null
    or (
        json_type(error) = 'OBJECT'
        and json_type(error, '$.code') = 'VARCHAR'
        and json_extract_string(error, '$.code') = $error_ok
    ) as ok
from read_json(
    $paths,
    filename = true,
    format = 'unstructured',
    columns = {
        data: 'STRUCT(videos STRUCT(
            id JSON,
            create_time JSON,
            username JSON,
            video_description JSON,
            video_duration JSON,
            view_count JSON,
            like_count JSON,
            comment_count JSON,
            share_count JSON,
            favourites_count JSON
        )[])',
        error: 'JSON'
    },
    maximum_object_size = $max_object_size
)
join members as m on m.path = filename
