-- issue 6: creators mapping, per-version tier hysteresis, creator rollups and follower anomalies

-- the creators mapping as the user last loaded it; a row names its account by id or by handle
create table if not exists core.creators (
    creator_id varchar not null,
    platform varchar not null,
    account_id varchar,
    handle varchar,
    line bigint,
    load_id varchar not null,
    observed_at timestamptz not null
);

-- the mapping resolved to accounts: by id as written, by handle through core.accounts
-- (case-insensitive, a leading @ ignored); an id mapping wins over a handle mapping
create or replace view core.creator_accounts as
with

mapping as (
    select * from core.creators
),

by_id as (
    select
        creator_id,
        platform,
        account_id,
        1 as preference
    from mapping
    where account_id is not null
),

by_handle as (
    select
        mapping.creator_id,
        accounts.platform,
        accounts.account_id,
        2 as preference
    from mapping
    inner join core.accounts
        on
            mapping.platform = accounts.platform
            and lower(ltrim(mapping.handle, '@')) = lower(ltrim(accounts.handle, '@'))
    where mapping.account_id is null
),

candidates as (
    select * from by_id
    union all
    select * from by_handle
),

final as (
    select
        creator_id,
        platform,
        account_id
    from candidates
    qualify row_number() over (
        partition by platform, account_id order by preference, creator_id
    ) = 1
)

select * from final;

-- creators whose rollups must be rebuilt although none of their current accounts changed
-- (an account left them when the mapping changed)
create table if not exists meta.pending_creator_days (
    creator_id varchar not null,
    day_from date not null,
    load_id varchar not null
);

-- hysteresis margin of a rule version, in percent of the boundary (0: none)
alter table meta.tier_rules add column if not exists hysteresis_pct double default 0;

alter table marts.creator_tier_daily add column if not exists raw_tier varchar;

create table if not exists marts.creator_daily (
    creator_id varchar not null,
    day date not null,
    platforms varchar not null,
    platforms_count integer not null,
    accounts_count integer not null,
    total_followers bigint,
    tier varchar,
    raw_tier varchar,
    tier_rule_version varchar not null,
    engagement_rate double,
    engagement_formula varchar not null,
    instagram_followers bigint,
    instagram_engagement_rate double,
    youtube_followers bigint,
    youtube_engagement_rate double,
    tiktok_followers bigint,
    tiktok_engagement_rate double,
    snapchat_followers bigint,
    snapchat_engagement_rate double,
    primary key (creator_id, day)
);

create table if not exists marts.follower_anomalies_daily (
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    day date not null,
    followers bigint,
    followers_change_1d bigint,
    window_days integer not null,
    window_changes integer not null,
    median_change double,
    mad_change double,
    scale double,
    robust_score double,
    threshold double not null,
    is_spike boolean not null,
    anomaly_method varchar not null,
    primary key (platform, account_id, day)
);
