-- core.accounts.creator_id follows the resolved creators mapping (accounts can arrive after it)
update core.accounts
set creator_id = resolved.creator_id
from (
    select
        accounts.platform,
        accounts.account_id,
        creator_accounts.creator_id
    from core.accounts
    left join core.creator_accounts
        on
            accounts.platform = creator_accounts.platform
            and accounts.account_id = creator_accounts.account_id
) as resolved
where
    accounts.platform = resolved.platform
    and accounts.account_id = resolved.account_id
    and accounts.creator_id is distinct from resolved.creator_id
