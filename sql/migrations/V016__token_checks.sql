-- issue 16: what the pipeline learnt about each platform token, one row per observation (a pull
-- start that inspected or refreshed it). Only a short fingerprint of the token is kept, never
-- the token; expires_at is NULL when the expiry is unknown or, with never_expires, when the
-- platform says the token does not expire. source says where the expiry came from: the
-- platform's token debug endpoint, a refresh response, or the platform's declaration.
create table if not exists meta.token_checks (
    platform varchar not null,
    variable varchar not null,
    connection_id varchar,
    fingerprint varchar,
    expires_at timestamptz,
    never_expires boolean not null,
    valid boolean,
    source varchar not null,
    checked_at timestamptz not null,
    refreshed_at timestamptz
);
