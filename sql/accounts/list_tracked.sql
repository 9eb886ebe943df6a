-- every tracked account, or those of one platform ($platform null: all)
select
    platform,
    account,
    account_id,
    handle,
    creator_id,
    added_at,
    added_by
from meta.tracked_accounts
where $platform is null or platform = $platform
order by platform, account
