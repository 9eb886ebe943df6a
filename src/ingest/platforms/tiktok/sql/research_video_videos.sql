-- Each video of a usable page ($usable), and whether every field has the plain shape the API
-- sends: a JSON integer within range for counts, a string for text. Any other shape goes to
-- the reference row builder. Counts are those of settings.RESEARCH_VIDEO_DAILY.
--
-- Each video's text is the one DuckDB writes back: no whitespace, so an empty object is "{}",
-- and its brackets are the raw text's (research_video_pages.sql refuses escaped ones). Per
-- video: whether every object in it holding keys had them checked (keys_checked): the
-- video's own (research_video_pages.sql), those of its members' values (video_label) and of
-- their elements (hashtag_info_list). Its braces less its "{}" are its objects holding keys,
-- when no string holds a brace; otherwise they are counted again with the strings emptied.
-- An object holding keys deeper is not looked into: the page is left to the reference.
create temp table videos as
with

listed as (
    select
        member,
        unnest(videos) as v,
        unnest(video_texts) as video,
        generate_subscripts(videos, 1) as line
    from pages
    where member in (select unnest(cast($usable as integer[])))
),

parsed as (
    select
        *,
        coalesce(starts_with(video, '{') and video <> '{}', false) as has_keys,
        coalesce(starts_with(video, '{'), false) as is_object,
        coalesce(len(string_split(video, '{')) - 1, 0) as braces,
        coalesce(len(string_split(video, '[')) - 1, 0) as brackets,
        coalesce(len(string_split(video, '{}')) - 1, 0) as empty_objects
    from listed
),

flat as (
    select
        *,
        braces - empty_objects = has_keys::integer as flat,
        -- its strings emptied, where it holds other objects or a brace inside a string
        case
            when braces - empty_objects <> has_keys::integer
                then regexp_replace(video, '"(?:[^"\\]|\\.)*"', '""', 'g')
        end as bare
    from parsed
),

nested as (
    select
        *,
        if(
            flat,
            braces - empty_objects,
            len(string_split(bare, '{')) - len(string_split(bare, '{}'))
        ) as keyed_objects,
        case
            when flat or not is_object then []
            else list_filter(
                list_concat(json_keys(video, '$.*'), json_keys(video, '$.*[*]')),
                k -> len(k) > 0
            )
        end as inner_keys
    from flat
)

select
    member,
    line,
    v,
    braces,
    braces + brackets as openings,
    coalesce(
        -- a video neither an object nor null leaves its page to the reference, as the
        -- read_json stager before did (the reference quarantines it)
        (is_object or video = 'null')
        and keyed_objects = has_keys::integer + len(inner_keys)
        and len(list_filter(inner_keys, k -> len(k) <> len(list_distinct(k)))) = 0,
        false
    ) as keys_checked,
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
from nested
join members using (member)
