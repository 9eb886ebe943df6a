-- the account-day ranges rebuilt since the last BI copy, one covering range per account
-- (replacing more days than changed is harmless: the copy takes the marts' rows as they are)
select
    platform,
    account_id,
    min(day_from) as day_from,
    max(day_to) as day_to
from meta.bi_pending_days
group by platform, account_id
