-- Data API videos.list responses ($paths, a list of files; filename names each, and
-- yt_members gives each its member number, snapshot day and latest publication time allowed):
-- one row per item (line, from 1) and one per file (line 0, with items_read). A file is left to the
-- reference parser when some row of it is refused.
--
-- A file is read the way the reference decoder (parsing.decode_json) reads it: strict UTF-8
-- with at most one BOM, exactly one JSON value, no key twice in an object. DuckDB's reader is
-- laxer; what it lets through is looked for here and the file refused (left to the reference
-- parser): a comma before a closing bracket, NaN or Infinity spelled otherwise than Python's
-- (both in the text with its strings emptied), a key twice in an object the row builder reads,
-- an escaped bracket (\u005b, \u007b: it would hide nesting from the count below). Python's
-- decoder also gives up on deep nesting; a value nests at most as deep as it has brackets,
-- counted per item and for the rest of the text (openings).
--
-- An item is clean when every field it reads has the plain shape the API sends: ids of
-- URL-safe characters, publishedAt as 2026-08-01T12:00:00Z, an ISO-8601 duration, counts as
-- strings of digits within 64 bits, a string title. Fields are matched on their JSON text, so
-- a string is known by its quotes. The other items go to the reference row builder.
--
-- Few query levels on purpose: planning this statement costs more than running it on a page.
create temp table yt_items as
with

texts as (
    select
        filename,
        regexp_replace(try(decode(content)), '^\x{FEFF}', '') as text
    from read_blob($paths)
),

docs as (
    select
        filename,
        text,
        coalesce(
            -- a case, not an and: DuckDB evaluates both sides of an and, and a JSON function
            -- on text that is not JSON fails the whole pass (and every page in it)
            case when json_valid(text) then
                -- an object whose kind is the string (no other JSON value reads as this text)
                json_extract_string(text, '$.kind') = $kind
                and coalesce(json_type(text, '$.items'), 'ARRAY') = 'ARRAY'
                and len(json_keys(text)) = len(list_distinct(json_keys(text)))
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
                )
                -- Python reads NaN but not -NaN; the emptying above would make it -0
                and not regexp_matches(text, '-[ \t\n\r]*NaN')
            else false end,
            false
        ) as usable
    from texts
),

listed as (
    select
        filename,
        usable,
        -- the brackets outside the items (the items list's own included)
        if(
            usable,
            length(text) - length(replace(replace(text, '[', ''), '{', ''))
            - coalesce(
                length(json_extract(text, '$.items'))
                - length(replace(replace(json_extract(text, '$.items'), '[', ''), '{', '')),
                0
            ) + 1,
            0
        ) as openings,
        if(usable, json_extract(text, '$.items[*]'), []) as items
    from docs
),

items as (
    select
        filename,
        usable,
        openings,
        len(items) as items_read,
        -- a null first: the row of the file itself
        unnest(list_prepend(null, items)) as item,
        generate_subscripts(list_prepend(null, items), 1) - 1 as line
    from listed
),

objects as (
    select
        filename,
        usable,
        line,
        items_read,
        if(line = 0, openings, length(item) - length(replace(replace(item, '[', ''), '{', '')))
            as openings,
        -- the keys of the item and of the objects read: a key twice refuses the file
        json_keys(item, ['$', '$.snippet', '$.contentDetails', '$.statistics']) as keys,
        from_json(
            item,
            '{"id": "JSON",
              "snippet": {"publishedAt": "JSON", "channelId": "JSON", "title": "JSON"},
              "contentDetails": {"duration": "JSON"},
              "statistics": {"viewCount": "JSON", "likeCount": "JSON", "commentCount": "JSON"}}'
        ) as v
    from items
),

leaves as (
    select
        filename,
        line,
        items_read,
        openings,
        usable,
        keys,
        v.id as id_json,
        v.snippet.channelId as channel_json,
        v.snippet.publishedAt as published_json,
        v.snippet.title as title_json,
        v.contentDetails.duration as duration_json,
        v.statistics.viewCount as views_json,
        v.statistics.likeCount as likes_json,
        v.statistics.commentCount as comments_json
    from objects
),

typed as (
    select
        *,
        trim(id_json, '"') as post_id,
        trim(channel_json, '"') as account_id,
        try_cast(trim(published_json, '"') as timestamptz) as published_at,
        json_extract_string(title_json, '$') as caption,
        if(
            duration_json is null,
            null,
            (
                (
                    coalesce(try_cast(regexp_extract(duration_json, '([0-9]+)D', 1) as bigint), 0) * 24
                    + coalesce(try_cast(regexp_extract(duration_json, '([0-9]+)H', 1) as bigint), 0)
                ) * 60
                + coalesce(try_cast(regexp_extract(duration_json, '([0-9]+)M', 1) as bigint), 0)
            ) * 60
            + coalesce(try_cast(regexp_extract(duration_json, '([0-9]+)S', 1) as bigint), 0)
        ) as duration_seconds,
        try_cast(trim(views_json, '"') as hugeint) as views,
        try_cast(trim(likes_json, '"') as hugeint) as likes,
        try_cast(trim(comments_json, '"') as hugeint) as comments
    from leaves
)

select
    m.member,
    filename,
    line,
    items_read,
    coalesce(
        if(
            line = 0,
            not usable or openings > $max_depth,
            -- inside the response's object and its items list
            openings + 2 > $max_depth
            or coalesce(len(keys[1]) <> len(list_distinct(keys[1])), false)
            or coalesce(len(keys[2]) <> len(list_distinct(keys[2])), false)
            or coalesce(len(keys[3]) <> len(list_distinct(keys[3])), false)
            or coalesce(len(keys[4]) <> len(list_distinct(keys[4])), false)
        ),
        true
    ) as refused,
    coalesce(
        line > 0
        and regexp_full_match(id_json, '"[A-Za-z0-9_-]+"')
        and regexp_full_match(channel_json, '"[A-Za-z0-9_-]+"')
        and (
            published_json is null
            or (
                regexp_full_match(
                    published_json,
                    '"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]'
                    || '(\.[0-9]{1,6})?Z"'
                )
                and published_at between $earliest and m.latest
            )
        )
        and (title_json is null or starts_with(title_json, '"'))
        and (
            duration_json is null
            or (
                regexp_full_match(
                    duration_json,
                    '"P([0-9]{1,9}D)?(T([0-9]{1,9}H)?([0-9]{1,9}M)?([0-9]{1,12}S)?)?"'
                )
                and duration_seconds <= $int32_max
            )
        )
        and (
            views_json is null
            or (regexp_full_match(views_json, '"[0-9]{1,19}"') and views <= $int64_max)
        )
        and (
            likes_json is null
            or (regexp_full_match(likes_json, '"[0-9]{1,19}"') and likes <= $int64_max)
        )
        and (
            comments_json is null
            or (
                regexp_full_match(comments_json, '"[0-9]{1,19}"')
                and comments <= $int64_max
            )
        ),
        false
    ) as clean,
    coalesce(list_contains(keys[1], 'statistics'), false) as has_statistics,
    $platform as platform,
    post_id,
    account_id,
    published_at,
    caption,
    'video' as media_type,
    $watch_url || post_id as permalink,
    duration_seconds,
    m.day,
    try_cast(views as bigint) as views,
    try_cast(likes as bigint) as likes,
    try_cast(comments as bigint) as comments,
    not coalesce(list_contains(keys[4], 'likeCount'), false) as likes_hidden
from typed
join yt_members as m on m.path = typed.filename
