-- the mapping as it stood before this load replaced it (creators/changed_accounts compares)
select *
from core.creator_accounts
