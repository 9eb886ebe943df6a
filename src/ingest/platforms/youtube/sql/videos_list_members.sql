-- The pages staged together, and per page its snapshot day and the latest publication time
-- allowed. ``given_members`` is registered by the stager.
create temp table yt_members as
select
    cast(path as varchar) as path,
    cast(member as integer) as member,
    cast(day as date) as day,
    cast(latest as timestamptz) as latest
from given_members
