insert into meta.tracked_accounts (
    platform, account, account_id, handle, creator_id, added_at, added_by
)
values ($platform, $account, $account_id, $handle, $creator_id, $added_at, $added_by)
