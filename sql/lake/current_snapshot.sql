-- the lake's latest committed snapshot (0 for a lake with none yet)
select coalesce(max(snapshot_id), 0) as snapshot_id
from ducklake_snapshots($catalog)
