-- Research API video/query pages ($paths; members gives each its member number): one row per
-- page, with its videos (each field read as JSON, so that its JSON type can be checked, never
-- silently cast), their keys and texts, and what research_video_head.sql and
-- research_video_checked.sql need to decide whether DuckDB reads the page as the reference
-- does.
--
-- The reference decoder (parsing.decode_json) reads strict UTF-8 with at most one BOM, exactly
-- one JSON value, no key twice in any object. DuckDB's JSON reader is laxer; a page is
-- readable here only when none of what it lets through is found:
-- - a comma before a closing bracket, and NaN or Infinity spelled otherwise than Python's
--   (nan, inf, -NaN). Both are looked for in the raw text first, one expression per character
--   they may follow (each is found fast); a page matching (a string holding ", ]" or ": info"
--   does too) is looked at again with its strings emptied;
-- - an escaped bracket (\u005b, \u007b): brackets are counted in the raw text and in the
--   videos as DuckDB writes them back, which must agree (research_video_checked.sql);
-- - a key twice: the keys of the page, data, error and the videos here (each list of keys a
--   page's videos have is looked at once: they are few), of the objects inside a video in
--   research_video_videos.sql.
-- Every read here is guarded by a CASE: DuckDB evaluates a branch only for the rows taking it,
-- so a page that is not JSON is left out instead of failing the whole group.
create temp table pages as
with

texts as (
    select
        filename,
        -- a file that is not UTF-8 decodes to null, and is not readable
        regexp_replace(try(decode(content)), '^\x{FEFF}', '') as text
    from read_blob($paths)
),

checked as (
    select
        filename,
        text,
        case
            when not coalesce(json_valid(text), false) then false
            when regexp_matches(text, '\\u00[57][bB]') then false
            when not (
                regexp_matches(text, ',[ \t\n\r]*(-?(?i:inf|nan)|[\]}])')
                or regexp_matches(text, ':[ \t\n\r]*-?(?i:inf|nan)')
                or regexp_matches(text, '\[[ \t\n\r]*-?(?i:inf|nan)')
            ) then true
            -- the strings emptied and Python's literals made "_": a trailing comma, a letter
            -- that is no exponent, or "-_" (-NaN) is something Python refuses
            else not regexp_matches(
                regexp_replace(
                    regexp_replace(text, '"(?:[^"\\]|\\.)*"', '""', 'g'),
                    'NaN|-?Infinity|true|false|null',
                    '_',
                    'g'
                ),
                ',[ \t\n\r]*[\]}]|[A-DF-Za-df-z]|-_'
            )
        end as readable
    from texts
),

parsed as (
    select
        filename,
        readable,
        if(
            readable,
            from_json(
                text,
                '{"data": {"videos": [{"id": "JSON", "create_time": "JSON", "username": "JSON",
                  "video_description": "JSON", "video_duration": "JSON", "view_count": "JSON",
                  "like_count": "JSON", "comment_count": "JSON", "share_count": "JSON",
                  "favourites_count": "JSON"}]},
                  "error": "JSON"}'
            ),
            null
        ) as doc,
        if(readable, json_keys(text, ['$', '$.data', '$.error']), null) as keys,
        if(readable, json_keys(text, '$.data.videos[*]'), null) as video_keys,
        -- as DuckDB writes them back: no whitespace, and an empty object is "{}"
        if(readable, json_extract(text, '$.data.videos[*]'), null) as video_texts,
        -- brackets in the raw text, those inside strings included
        if(readable, len(string_split(text, '{')) - 1, null) as braces,
        if(readable, len(string_split(text, '[')) - 1, null) as brackets
    from checked
)

select
    m.member,
    doc.data.videos as videos,
    video_keys,
    video_texts,
    -- read as the reference reads it, as far as seen here, with a list of videos
    coalesce(
        readable
        and doc.data.videos is not null
        -- a key twice in the page, data, error (null when absent) or some video
        and len(
            list_filter(
                list_concat(keys, coalesce(list_distinct(video_keys), [])),
                k -> len(k) <> len(list_distinct(k))
            )
        ) = 0,
        false
    ) as has_videos,
    coalesce(
        doc.error is null
        or (
            json_type(doc.error) = 'OBJECT'
            and json_type(doc.error, '$.code') = 'VARCHAR'
            and json_extract_string(doc.error, '$.code') = $error_ok
        ),
        false
    ) as ok,
    -- the objects outside the videos whose keys are checked: the page, data, error
    2 + coalesce(json_type(doc.error) = 'OBJECT', false)::integer as known_objects,
    braces,
    braces + brackets as openings
from parsed
join members as m on m.path = filename
