-- the latest day the BI copy has engagement for: the day the report is about
select max(day) as day
from marts.creator_engagement_daily
