-- The optional fields some clean video of a page ($members) carries at all, null or not: an
-- explicit null and an absent key both read as NULL in a struct, so the videos' keys are asked.
select
    listed.member,
    bool_or(list_contains(keys, 'create_time')) as create_time,
    bool_or(list_contains(keys, 'video_description')) as video_description,
    bool_or(list_contains(keys, 'video_duration')) as video_duration,
    bool_or(list_contains(keys, 'view_count')) as view_count,
    bool_or(list_contains(keys, 'like_count')) as like_count,
    bool_or(list_contains(keys, 'comment_count')) as comment_count,
    bool_or(list_contains(keys, 'share_count')) as share_count,
    bool_or(list_contains(keys, 'favourites_count')) as favourites_count
from (
    select member, unnest(video_keys) as keys, generate_subscripts(video_keys, 1) as line
    from pages
    where member in (select unnest(cast($members as integer[])))
) as listed
semi join videos as v on v.member = listed.member and v.line = listed.line and v.clean
group by listed.member
