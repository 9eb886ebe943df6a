-- a writer's claim of a scope: concurrent claims update the same row, so they conflict
update meta.write_leases
set
    claims = claims + 1,
    claimed_at = current_timestamp
where scope = $scope
