-- one tracked account by its key, to tell a new account from one already tracked
select
    account_id,
    handle,
    creator_id
from meta.tracked_accounts
where platform = $platform and account = $account
