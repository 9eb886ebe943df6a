-- issue 13: creator totals as of each day (followers_as_of_v1). A creator's total on a day sums
-- each account's latest known count within a staleness window, not only the accounts observed
-- that day; the per-platform columns give way to one row per creator, day and account

-- what each account contributes to its creator's total on each day
create table if not exists marts.creator_account_daily (
    creator_id varchar not null,
    day date not null,
    platform varchar not null,
    account_id varchar not null,
    status varchar not null,
    followers bigint,
    followers_day date,
    followers_age_days integer,
    last_observed_day date,
    engagement_rate double,
    followers_window_days integer not null,
    followers_rule varchar not null,
    primary key (creator_id, day, platform, account_id)
);

-- every creator is rolled up again under the new rule, from its first day on
insert into meta.pending_creator_days
select
    creator_id,
    min(day) as day_from,
    'V014' as load_id
from marts.creator_daily
group by creator_id;

drop table marts.creator_daily;

create table marts.creator_daily (
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
    accounts_counted integer not null,
    counted_accounts varchar,
    accounts_stale integer not null,
    followers_oldest_age_days integer,
    followers_window_days integer not null,
    followers_rule varchar not null,
    primary key (creator_id, day)
);
