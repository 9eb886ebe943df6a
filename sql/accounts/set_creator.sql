-- a tracked account that had no creator gets one; a creator already recorded is never replaced
update meta.tracked_accounts
set creator_id = $creator_id
where platform = $platform and account = $account and creator_id is null
