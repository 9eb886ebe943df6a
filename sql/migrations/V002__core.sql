-- canonical model (DESIGN.md section 3); columns match ingest.model, a test keeps them in step

create table if not exists core.accounts (
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    display_name varchar,
    created_at timestamptz,
    creator_id varchar,
    load_id varchar not null,
    observed_at timestamptz not null,
    primary key (platform, account_id)
);

create table if not exists core.account_daily (
    platform varchar not null,
    account_id varchar not null,
    day date not null,
    followers bigint,
    following bigint,
    posts_count bigint,
    total_views bigint,
    total_likes bigint,
    followers_hidden boolean,
    followers_rounded boolean,
    day_timezone varchar,
    daily_views bigint,
    daily_likes bigint,
    daily_comments bigint,
    daily_shares bigint,
    followers_gained bigint,
    followers_lost bigint,
    load_id varchar not null,
    observed_at timestamptz not null,
    primary key (platform, account_id, day)
);

create table if not exists core.posts (
    platform varchar not null,
    post_id varchar not null,
    account_id varchar not null,
    published_at timestamptz,
    caption varchar,
    media_type varchar,
    permalink varchar,
    duration_seconds integer,
    load_id varchar not null,
    observed_at timestamptz not null,
    primary key (platform, post_id)
);

create table if not exists core.post_daily (
    platform varchar not null,
    post_id varchar not null,
    account_id varchar not null,
    day date not null,
    published_at timestamptz,
    views bigint,
    likes bigint,
    comments bigint,
    shares bigint,
    saves bigint,
    reach bigint,
    likes_hidden boolean,
    load_id varchar not null,
    observed_at timestamptz not null,
    primary key (platform, post_id, day)
);

-- replaced observations: restatements stay visible
create table if not exists core.account_daily_history as
select *, cast(null as varchar) as replaced_by_load_id, cast(null as timestamptz) as replaced_at
from core.account_daily with no data;

create table if not exists core.post_daily_history as
select *, cast(null as varchar) as replaced_by_load_id, cast(null as timestamptz) as replaced_at
from core.post_daily with no data;
