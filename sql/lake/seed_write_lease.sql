-- a scope's lease row, unclaimed, unless it exists already
insert into meta.write_leases (scope, claims, claimed_at)
select
    $scope,
    0,
    null
where not exists (
    select 1
    from meta.write_leases
    where scope = $scope
)
