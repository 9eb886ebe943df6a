"""One writer process of the concurrency test: land, stage and publish some demo files.

    python writer.py MANIFEST WAREHOUSE DATA_PATH PLATFORM[,PLATFORM...] ROUNDS

MANIFEST is a JSON list of the demo files (path, platform, day, fetched_at, account). The
writer publishes its platforms' files in ROUNDS publishes, each with its marts rebuild, and
prints one JSON object per load.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

from ingest.config import Settings
from ingest.landing import land_file
from ingest.pipeline import publish_batches, stage_landed
from ingest.platforms import registry


def main(argv: list[str]) -> int:
    manifest, warehouse, data_path, platforms, rounds = argv
    settings = Settings.from_env(warehouse, data_path)
    wanted = platforms.split(",")
    files = [f for f in json.loads(Path(manifest).read_text()) if f["platform"] in wanted]
    staged = []
    for f in files:
        path = Path(f["path"])
        fmt = registry((f["platform"],)).detect(path, str(path), f["platform"])
        landed = land_file(
            path,
            settings.landing,
            platform=f["platform"],
            day=date.fromisoformat(f["day"]),
            account=f["account"],
            format=fmt.name,
            fetched_at=datetime.fromisoformat(f["fetched_at"]),
        )
        staged.append(stage_landed(landed, settings, source=str(path)))
    size = -(-len(staged) // int(rounds))
    for start in range(0, len(staged), size):
        for result in publish_batches(staged[start : start + size], settings):
            print(json.dumps(result.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
