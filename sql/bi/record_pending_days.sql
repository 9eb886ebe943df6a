-- the account-day ranges a marts rebuild replaced, for the next BI copy to replace in turn
insert into meta.bi_pending_days
select
    platform,
    account_id,
    day_from,
    day_to
from affected_days
