-- the optional fields some clean video carries with a value
select
    bool_or(v.create_time is not null) as create_time,
    bool_or(v.video_description is not null) as video_description,
    bool_or(v.video_duration is not null) as video_duration,
    bool_or(v.view_count is not null) as view_count,
    bool_or(v.like_count is not null) as like_count,
    bool_or(v.comment_count is not null) as comment_count,
    bool_or(v.share_count is not null) as share_count,
    bool_or(v.favourites_count is not null) as favourites_count
from videos
where clean
