-- issue 9: the BI copy is refreshed in place of a copy of the last one, replacing only the mart
-- ranges rebuilt since, so a nightly publish costs the day's changes rather than the history

-- account-day ranges (as in meta.pending_mart_days, stretched like affected_days) whose mart rows
-- were rebuilt since the BI copy was last published; consumed when a BI copy is swapped in
create table if not exists meta.bi_pending_days (
    platform varchar not null,
    account_id varchar not null,
    day_from date not null,
    day_to date not null
);

-- creators whose rollups were rebuilt from day_from on since the BI copy was last published
create table if not exists meta.bi_pending_creator_days (
    creator_id varchar not null,
    day_from date not null
);

-- the BI copy the pending ranges above apply to: its id (also stored inside the copy) and the
-- marts' column layout it was made with; a copy that does not match is rebuilt whole
create table if not exists meta.bi_copy_state (
    copy_id varchar not null,
    marts_layout varchar not null,
    published_at timestamptz not null
);
