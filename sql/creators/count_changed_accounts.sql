-- how many accounts changed creator with this mapping
select count(distinct (platform, account_id)) as accounts
from changed_accounts
