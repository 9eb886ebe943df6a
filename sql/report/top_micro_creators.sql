-- the micro creators with the highest engagement rate on a day
select creator_id
from marts.creator_daily
where
    day = $day
    and tier = 'micro'
    and engagement_rate is not null
order by engagement_rate desc, creator_id
limit $n
