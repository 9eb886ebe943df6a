delete from meta.tracked_accounts
where platform = $platform and account = $account
