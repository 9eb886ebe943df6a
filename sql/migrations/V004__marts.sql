-- BI contract (DESIGN.md section 4): names and columns are fixed, more columns are welcome

create table if not exists marts.creator_engagement_daily (
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    day date not null,
    followers bigint,
    posts_28d bigint not null,
    interactions_28d bigint,
    engagement_rate double,
    engagement_rate_views double,
    followers_change_1d bigint,
    followers_change_7d bigint,
    views_28d bigint,
    engagement_formula varchar not null,
    engagement_views_formula varchar not null,
    primary key (platform, account_id, day)
);

create table if not exists marts.creator_tier_daily (
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    day date not null,
    followers bigint,
    tier varchar,
    tier_rule_version varchar not null,
    primary key (platform, account_id, day)
);

create table if not exists marts.creator_tier_history (
    platform varchar not null,
    account_id varchar not null,
    tier varchar not null,
    valid_from date not null,
    valid_to date,
    tier_rule_version varchar not null,
    primary key (platform, account_id, valid_from)
);
