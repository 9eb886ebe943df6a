-- one row of the creators mapping as loaded
insert into core.creators (
    creator_id,
    platform,
    account_id,
    handle,
    line,
    load_id,
    observed_at
)
values (
    $creator_id,
    $platform,
    $account_id,
    $handle,
    $line,
    $load_id,
    $observed_at
)
