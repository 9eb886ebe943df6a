-- The table's rows typed where every cell has the plain shape Studio writes: a video id,
-- "Sep 2, 2026", "1:08:43", "1234" or "1,234" (grouped by three with , . space, no-break space
-- or '). The other rows (clean = false) go to the reference row builder. The record number
-- skips the Total rows above a line (one, at the top, in a real export). The metric columns
-- are those of settings.STUDIO_POST_METRICS.
create temp table studio as
with

fields as (
    select * from studio_fields
),

parsed as (
    select
        *,
        cast(try_strptime(publish_time, '%b %d, %Y') as date) as published_day,
        case len(string_split(duration, ':'))
            when 1 then try_cast(split_part(duration, ':', 1) as bigint)
            when 2
                then try_cast(split_part(duration, ':', 1) as bigint) * 60
                + try_cast(split_part(duration, ':', 2) as bigint)
            else
                (
                    try_cast(split_part(duration, ':', 1) as bigint) * 60
                    + try_cast(split_part(duration, ':', 2) as bigint)
                ) * 60
                + try_cast(split_part(duration, ':', 3) as bigint)
        end as duration_seconds
    from fields
),

final as (
    select
        line,
        line - 1 - len(list_filter($total_lines, lambda t: t < line)) as record,
        coalesce(content = 'Total', false) as total,
        coalesce(
            content <> 'Total'
            and regexp_full_match(content, '[A-Za-z0-9_-]+')
            and (
                publish_time is null
                or (
                    regexp_full_match(
                        publish_time,
                        '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (0?[1-9]|[12][0-9]|3[01]), [0-9]{4}'
                    )
                    and published_day >= $earliest
                    and cast(published_day as timestamptz) <= $latest
                )
            )
            and (
                duration is null
                or (
                    regexp_full_match(duration, '[0-9]{1,9}(:[0-9]{1,9}){0,2}')
                    and duration_seconds < $int32_limit
                )
            )
            and (
                views_cell is null
                or regexp_full_match(views_cell, '([0-9]{1,18}|[0-9]{1,3}([,. \x{00A0}''][0-9]{3}){1,5})')
            )
            and (
                likes_cell is null
                or regexp_full_match(likes_cell, '([0-9]{1,18}|[0-9]{1,3}([,. \x{00A0}''][0-9]{3}){1,5})')
            )
            and (
                comments_cell is null
                or regexp_full_match(
                    comments_cell, '([0-9]{1,18}|[0-9]{1,3}([,. \x{00A0}''][0-9]{3}){1,5})'
                )
            )
            and (
                shares_cell is null
                or regexp_full_match(shares_cell, '([0-9]{1,18}|[0-9]{1,3}([,. \x{00A0}''][0-9]{3}){1,5})')
            ),
            false
        ) as clean,
        $platform as platform,
        content as post_id,
        $account as account_id,
        $day as day,
        'video' as media_type,
        'https://www.youtube.com/watch?v=' || content as permalink,
        nullif(video_title, '') as caption,
        cast(published_day as timestamptz) as published_at,
        duration_seconds,
        try_cast(regexp_replace(views_cell, '[^0-9]', '', 'g') as bigint) as views,
        try_cast(regexp_replace(likes_cell, '[^0-9]', '', 'g') as bigint) as likes,
        try_cast(regexp_replace(comments_cell, '[^0-9]', '', 'g') as bigint) as comments,
        try_cast(regexp_replace(shares_cell, '[^0-9]', '', 'g') as bigint) as shares,
        columns('^c[0-9]+$')  -- the cells, for the reference row builder
    from parsed
)

select * from final
