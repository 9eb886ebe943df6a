-- The pages staged together, and per page what its videos are held to: the account a video
-- without a username belongs to (null when the user named none usable), the snapshot day and
-- the latest creation time allowed (epoch seconds). ``given_members`` is registered by the
-- stager (bound list parameters of nulls are slow to type).
create temp table members as
select
    cast(path as varchar) as path,
    cast(member as integer) as member,
    cast(account as varchar) as account,
    cast(day as date) as day,
    cast(latest as bigint) as latest
from given_members
