-- the first claim of a scope that has no row yet
insert into meta.write_leases (scope, claims, claimed_at)
values ($scope, 1, current_timestamp)
