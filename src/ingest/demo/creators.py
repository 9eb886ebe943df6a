"""The demo world's creators mapping, as a user would keep it: one line per account."""

from __future__ import annotations

import csv
from pathlib import Path

from ingest.demo.world import World

MAPPING_FILE = "creators.csv"


def write(world: World, out: Path) -> Path:
    """Write ``out/creators.csv`` (creator_id, platform, account_id, handle) for every account."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / MAPPING_FILE
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["creator_id", "platform", "account_id", "handle"])
        for creator in world.creators:
            for platform, account in sorted(creator.accounts.items()):
                writer.writerow([creator.creator_id, platform, account.account_id, account.handle])
    return path
