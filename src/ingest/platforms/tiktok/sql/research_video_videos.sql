-- Each video, and whether every field has the plain shape the API sends: a JSON integer within
-- range for counts, a string for text. Any other shape goes to the reference row builder.
-- Counts are those of settings.RESEARCH_VIDEO_DAILY.
create temp table videos as
select
    member,
    line,
    v,
    coalesce(
        v is not null
        and (
            json_type(v.id) = 'UBIGINT'
            or (
                json_type(v.id) = 'VARCHAR'
                and regexp_full_match(json_extract_string(v.id, '$'), '[0-9]+')
            )
        )
        and (
            (
                json_type(v.username) = 'VARCHAR'
                and regexp_matches(json_extract_string(v.username, '$'), '[0-9A-Za-z]')
            )
            -- a video without a username belongs to the account the user named
            or (
                account is not null
                and (v.username is null or json_extract_string(v.username, '$') = '')
            )
        )
        and (
            v.create_time is null
            or (
                json_type(v.create_time) in ('UBIGINT', 'BIGINT')
                and try_cast(v.create_time as hugeint) between $earliest and latest
            )
        )
        and (v.video_description is null or json_type(v.video_description) = 'VARCHAR')
        and (
            v.video_duration is null
            or (
                json_type(v.video_duration) = 'UBIGINT'
                and try_cast(v.video_duration as hugeint) <= $int32_max
            )
        )
        and (
            v.view_count is null
            or (json_type(v.view_count) = 'UBIGINT' and try_cast(v.view_count as hugeint) <= $int64_max)
        )
        and (
            v.like_count is null
            or (json_type(v.like_count) = 'UBIGINT' and try_cast(v.like_count as hugeint) <= $int64_max)
        )
        and (
            v.comment_count is null
            or (
                json_type(v.comment_count) = 'UBIGINT'
                and try_cast(v.comment_count as hugeint) <= $int64_max
            )
        )
        and (
            v.share_count is null
            or (
                json_type(v.share_count) = 'UBIGINT'
                and try_cast(v.share_count as hugeint) <= $int64_max
            )
        )
        and (
            v.favourites_count is null
            or (
                json_type(v.favourites_count) = 'UBIGINT'
                and try_cast(v.favourites_count as hugeint) <= $int64_max
            )
        ),
        false
    ) as clean
from (
    select member, unnest(videos) as v, generate_subscripts(videos, 1) as line
    from pages
    where member in (select unnest(cast($usable as integer[])))
)
join members using (member)
