-- Data API videos.list responses ($paths, a list of files; filename names each): one row per
-- item (line, from 1) and one per file (line 0). videos_list_summary.sql decides per file.
--
-- A file is read the way the reference decoder (parsing.decode_json) reads it: strict UTF-8
-- with at most one BOM, exactly one JSON value, no key twice in an object. DuckDB's reader is
-- laxer; what it lets through is looked for here and the file refused (left to the reference
-- parser): a comma before a closing bracket, NaN or Infinity spelled otherwise than Python's
-- (both in the text with its strings emptied), a key twice in an object the row builder reads,
-- an escaped bracket (\u005b, \u007b: it would hide nesting from the count below). Python's
-- decoder also gives up on deep nesting; a value nests at most as deep as it has brackets,
-- counted per item and for the rest of the file (openings).
--
-- An item is clean when every field it reads has the plain shape the API sends: ids of
-- URL-safe characters, publishedAt as 2026-08-01T12:00:00Z, an ISO-8601 duration, counts as
-- strings of digits within 64 bits, a string title. Fields are matched on their JSON text, so
-- a string is known by its quotes. The other items go to the reference row builder.
create temp table yt_items as
with

texts as (
    select
        filename,
        try(decode(content)) as raw_text
    from read_blob($paths)
),

unmarked as (
    select
        filename,
        if(starts_with(raw_text, chr(65279)), substr(raw_text, 2), raw_text) as text
    from texts
),

docs as (
    select
        filename,
        text,
        if(json_valid(text), cast(text as json), null) as doc
    from unmarked
),

judged_docs as (
    select
        filename,
        doc,
        length(text) - length(replace(replace(text, '[', ''), '{', '')) as openings,
        coalesce(
            json_type(doc) = 'OBJECT'
            and json_type(doc, '$.kind') = 'VARCHAR'
            and json_extract_string(doc, '$.kind') = $kind
            and coalesce(json_type(doc, '$.items'), 'ARRAY') = 'ARRAY'
            and len(json_keys(doc)) = len(list_distinct(json_keys(doc)))
            and not regexp_matches(text, '\\u00[57][bB]')
            -- the literals Python reads become 0 and the strings "": what is left is numbers,
            -- punctuation and anything DuckDB accepts that Python does not
            and not regexp_matches(
                regexp_replace(
                    regexp_replace(text, '"(?:[^"\\]|\\.)*"', '""', 'g'),
                    'true|false|null|NaN|-?Infinity',
                    '0',
                    'g'
                ),
                ',[ \t\n\r]*[\]}]|[A-DF-Za-df-z]'
            ),
            false
        ) as usable
    from docs
),

listed as (
    select
        filename,
        usable,
        openings,
        -- a null first: the row of the file itself
        list_prepend(null, if(usable, json_extract(doc, '$.items[*]'), [])) as items
    from judged_docs
),

items as (
    select
        filename,
        usable,
        openings,
        unnest(items) as item,
        generate_subscripts(items, 1) - 1 as line
    from listed
),

objects as (
    select
        filename,
        usable,
        line,
        if(line = 0, openings, length(item) - length(replace(replace(item, '[', ''), '{', '')))
            as openings,
        coalesce(json_keys(item), []) as item_keys,
        from_json(item, '{"id": "JSON", "snippet": "JSON", "contentDetails": "JSON",
            "statistics": "JSON"}') as v
    from items
),

fields as (
    select
        filename,
        usable,
        line,
        openings,
        item_keys,
        coalesce(json_keys(v.snippet), []) as snippet_keys,
        coalesce(json_keys(v.contentDetails), []) as details_keys,
        coalesce(json_keys(v.statistics), []) as statistics_keys,
        v.id as id,
        v.statistics as statistics,
        from_json(v.snippet, '{"publishedAt": "JSON", "channelId": "JSON", "title": "JSON"}')
            as snippet,
        json_extract(v.contentDetails, '$.duration') as duration,
        from_json(v.statistics, '{"viewCount": "JSON", "likeCount": "JSON",
            "commentCount": "JSON"}') as counts
    from objects
),

parsed as (
    select
        *,
        try_cast(trim(snippet.publishedAt, '"') as timestamptz) as published,
        regexp_extract(
            duration,
            '^"P(?:([0-9]{1,9})D)?(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,12})S)?)?"$',
            ['days', 'hours', 'minutes', 'seconds']
        ) as duration_parts
    from fields
),

typed as (
    select
        *,
        (
            (
                coalesce(try_cast(duration_parts.days as bigint), 0) * 24
                + coalesce(try_cast(duration_parts.hours as bigint), 0)
            ) * 60
            + coalesce(try_cast(duration_parts.minutes as bigint), 0)
        ) * 60
        + coalesce(try_cast(duration_parts.seconds as bigint), 0) as seconds
    from parsed
),

judged as (
    select
        *,
        if(
            line = 0,
            not usable,
            len(item_keys) <> len(list_distinct(item_keys))
            or len(snippet_keys) <> len(list_distinct(snippet_keys))
            or len(details_keys) <> len(list_distinct(details_keys))
            or len(statistics_keys) <> len(list_distinct(statistics_keys))
        ) as refused,
        coalesce(
            line > 0
            and regexp_full_match(id, '"[A-Za-z0-9_-]+"')
            and regexp_full_match(snippet.channelId, '"[A-Za-z0-9_-]+"')
            and (
                snippet.publishedAt is null
                or (
                    regexp_full_match(
                        snippet.publishedAt,
                        '"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]'
                        || '(\.[0-9]{1,6})?Z"'
                    )
                    and published >= $earliest
                    and published <= $latest
                )
            )
            and (snippet.title is null or starts_with(snippet.title, '"'))
            and (
                duration is null
                or (
                    regexp_full_match(
                        duration,
                        '"P([0-9]{1,9}D)?(T([0-9]{1,9}H)?([0-9]{1,9}M)?([0-9]{1,12}S)?)?"'
                    )
                    and seconds <= $int32_max
                )
            )
            -- statistics absent (no counts that day) or an object
            and (
                not list_contains(item_keys, 'statistics')
                or json_type(statistics) = 'OBJECT'
            )
            and (
                counts.viewCount is null
                or (
                    regexp_full_match(counts.viewCount, '"[0-9]{1,19}"')
                    and try_cast(trim(counts.viewCount, '"') as hugeint) <= $int64_max
                )
            )
            and (
                counts.likeCount is null
                or (
                    regexp_full_match(counts.likeCount, '"[0-9]{1,19}"')
                    and try_cast(trim(counts.likeCount, '"') as hugeint) <= $int64_max
                )
            )
            and (
                counts.commentCount is null
                or (
                    regexp_full_match(counts.commentCount, '"[0-9]{1,19}"')
                    and try_cast(trim(counts.commentCount, '"') as hugeint) <= $int64_max
                )
            ),
            false
        ) as clean
    from typed
)

select
    filename,
    line,
    openings,
    clean,
    coalesce(refused, true) as refused,
    list_contains(item_keys, 'statistics') as has_statistics,
    $platform as platform,
    trim(id, '"') as post_id,
    trim(snippet.channelId, '"') as account_id,
    published as published_at,
    json_extract_string(snippet.title, '$') as caption,
    'video' as media_type,
    $watch_url || trim(id, '"') as permalink,
    if(duration is null, null, seconds) as duration_seconds,
    $day as day,
    try_cast(trim(counts.viewCount, '"') as bigint) as views,
    try_cast(trim(counts.likeCount, '"') as bigint) as likes,
    try_cast(trim(counts.commentCount, '"') as bigint) as comments,
    not list_contains(statistics_keys, 'likeCount') as likes_hidden
from judged
