-- The clean videos of the pages staged natively ($usable) as canonical values: one row per
-- video, for posts and post_daily, with the account and day of its page.
-- The permalink fills settings.VIDEO_URL; the video id first, as it holds digits only.
-- The counts are those of settings.RESEARCH_VIDEO_DAILY.
create temp table good as
with

clean_videos as (
    select
        videos.member,
        videos.line,
        videos.v,
        members.account,
        members.day
    from videos
    join members using (member)
    where videos.clean and videos.member in (select unnest(cast($usable as integer[])))
),

typed as (
    select
        member,
        line,
        $platform as platform,
        case
            when json_type(v.id) = 'VARCHAR' then json_extract_string(v.id, '$')
            else cast(v.id as varchar)
        end as post_id,
        case
            when account is not null
                and (v.username is null or json_extract_string(v.username, '$') = '')
                then account
            else json_extract_string(v.username, '$')
        end as account_id,
        'video' as media_type,
        day,
        to_timestamp(try_cast(v.create_time as bigint)) as published_at,
        nullif(json_extract_string(v.video_description, '$'), '') as caption,
        try_cast(v.video_duration as bigint) as duration_seconds,
        try_cast(v.view_count as bigint) as views,
        try_cast(v.like_count as bigint) as likes,
        try_cast(v.comment_count as bigint) as comments,
        try_cast(v.share_count as bigint) as shares,
        try_cast(v.favourites_count as bigint) as saves
    from clean_videos
),

final as (
    select
        *,
        replace(replace($video_url, '{video_id}', post_id), '{username}', account_id) as permalink
    from typed
)

select * from final
