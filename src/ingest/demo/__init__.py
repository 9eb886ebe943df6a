"""``ingest demo``: realistic sample exports for every platform, run through the whole pipeline.

The core simulates the creators (``world``); each platform renders its files from them through
the ``DemoPlatform`` its ``Platform.demo`` names. A platform without one is left out of the demo.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.config import Settings
from ingest.creators import load_mapping
from ingest.demo import creators as creators_csv
from ingest.demo.files import DemoFile
from ingest.demo.world import DemoPlatform, build_world
from ingest.errors import IngestError
from ingest.landing import land_file
from ingest.pipeline import LoadResult, publish_batches, stage_landed_files
from ingest.platforms import platforms, registry
from ingest.plugin import load_object
from ingest.progress import emit
from ingest.staging import StagedBatch, discard_all
from ingest.warehouse import open_bi


def demo_platforms() -> dict[str, DemoPlatform]:
    """The demo part of every installed platform that has one, in ``DemoPlatform.order``."""
    found: dict[str, DemoPlatform] = {}
    for name, platform in platforms().items():
        if platform.demo is None:
            continue
        demo = load_object(platform.demo)
        if not isinstance(demo, DemoPlatform):
            raise IngestError(
                f"platform {name!r}: its demo {platform.demo} is not a"
                " ingest.demo.world.DemoPlatform"
            )
        found[name] = demo
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def __getattr__(name: str) -> Any:
    # ``WRITERS``, the platforms' demo parts by name, read from the registry when first asked
    # for: the platforms' demo modules import this package's modules, so not at import time
    if name == "WRITERS":
        return demo_platforms()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def write_demo_files(
    out: Path, *, creators: int, days: int, seed: int, end: date | None = None
) -> list[DemoFile]:
    """Write the sample exports and API responses under ``out`` (replacing what was there)."""
    end = end or datetime.now(UTC).date() - timedelta(days=1)
    demos = demo_platforms()
    if not demos:
        raise IngestError("no installed platform has a demo")
    world = build_world(creators=creators, days=days, seed=seed, end=end, platforms=demos)
    if out.exists():
        shutil.rmtree(out)
    files: list[DemoFile] = []
    for demo in demos.values():
        files.extend(demo.write(world, out))
    creators_csv.write(world, out)
    return files


def run_demo(
    settings: Settings,
    *,
    out: Path,
    creators: int = 60,
    days: int = 35,
    seed: int = 7,
    end: date | None = None,
) -> str:
    """Generate the demo data, land, stage and publish it, and summarise the warehouse."""
    files = write_demo_files(out, creators=creators, days=days, seed=seed, end=end)
    # the mapping first: the publish below then rolls every account up under its creator
    load_mapping(out / creators_csv.MAPPING_FILE, settings)
    landed = []
    for number, demo_file in enumerate(files, start=1):
        fmt = registry((demo_file.platform,)).detect(
            demo_file.path, str(demo_file.path), demo_file.platform
        )
        landed_file = land_file(
            demo_file.path,
            settings.landing,
            platform=demo_file.platform,
            day=demo_file.day,
            account=demo_file.account,
            format=fmt.name,
            fetched_at=demo_file.fetched_at,
        )
        landed.append((landed_file, str(demo_file.path)))
        emit("land", done=number, total=len(files), detail=demo_file.path.name)

    # staged as `ingest load` stages: pages many to a pass, and each batch carries what
    # lets a run's batches publish many to a transaction
    outcomes = stage_landed_files(
        [(source, landed_file) for landed_file, source in landed],
        settings,
        retry_rejected=True,
    )
    staged = [o for o in outcomes if isinstance(o, StagedBatch)]
    refused = [o for o in outcomes if isinstance(o, IngestError)]
    try:
        if refused:  # the demo writes well-formed files: a refusal is a bug, not bad input
            raise refused[0]
        results = publish_batches(staged, settings)
    finally:
        discard_all(staged)
    return summarise(settings, results)


def summarise(settings: Settings, results: list[LoadResult]) -> str:
    """Rows per platform, quarantine, creators per tier and the top micro creators."""
    lines = ["Loaded:"]
    by_platform: dict[str, list[int]] = {}
    for result in results:
        counts = by_platform.setdefault(result.platform or "?", [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += result.rows_read
        counts[2] += result.rows_loaded
        counts[3] += result.rows_quarantined
    for platform, (loads, read, loaded, quarantined) in sorted(by_platform.items()):
        lines.append(
            f"  {platform:<10} {loads:>5} files  {read:>8} rows read  {loaded:>8} loaded"
            f"  {quarantined:>4} quarantined"
        )
    conn = open_bi(settings)
    try:
        tiers = conn.execute(
            "select tier, count(*) from marts.creator_tier_daily"
            " where day = (select max(day) from marts.creator_tier_daily)"
            " group by tier order by min(followers)"
        ).fetchall()
        lines.append("Accounts per tier on the latest day:")
        lines.extend(f"  {tier or 'unknown (hidden)':<18} {n:>5}" for tier, n in tiers)
        top = conn.execute(
            "select e.platform, e.handle, e.followers, e.engagement_rate"
            " from marts.creator_engagement_daily e"
            " join marts.creator_tier_daily t using (platform, account_id, day)"
            " where t.tier = 'micro' and e.engagement_rate is not null"
            " and e.day = (select max(day) from marts.creator_engagement_daily)"
            " order by e.engagement_rate desc limit 5"
        ).fetchall()
        lines.append("Top micro creators by engagement rate (latest day):")
        lines.extend(
            f"  {platform:<10} {handle or '?':<28} {followers:>9,} followers  {rate:6.2%}"
            for platform, handle, followers, rate in top
        )
    finally:
        conn.close()
    if settings.lake is not None:
        lines.append(f"Warehouse: {settings.describe()}  (BI reads the lake's latest snapshot)")
    else:
        lines.append(f"Warehouse: {settings.warehouse}  BI copy: {settings.bi_warehouse}")
    return "\n".join(lines)
