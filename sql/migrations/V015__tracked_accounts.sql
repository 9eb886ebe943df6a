-- issue 16: the accounts a platform's API pull asks for, kept in the warehouse so that one
-- account can be added or removed without editing a file. `account` is what the pull knows the
-- account by (its id, else its handle without `@`, lower case, as handles match regardless of
-- case); `added_by` says how it came: `cli` or `import:<file name>`
create table if not exists meta.tracked_accounts (
    platform varchar not null,
    account varchar not null,
    account_id varchar,
    handle varchar,
    creator_id varchar,
    added_at timestamptz not null,
    added_by varchar not null,
    primary key (platform, account)
);
