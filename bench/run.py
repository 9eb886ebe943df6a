"""Benchmarks: the project's load against DuckDB's own native load of the same files.

Every measurement runs in a child process that imports its libraries first and times only the
work, so interpreter and library import are excluded and the child's RSS high-water mark is that
measurement's peak memory. The project and the baseline alternate, run after run, so a noisy
neighbour slows both; the report gives medians and the ratio project/baseline of the medians.
The inputs have the shapes the APIs give (100 TikTok videos, 50 YouTube videos a page).

Usage: ``python bench/run.py [--scale 0.05] [--runs 3] [--cases tiktok_1m,nightly]``. Every run
is kept as ``results/history/<time>-<commit>.json``; ``results/latest.{json,md}`` show each
case's newest result; ``python bench/history.py`` prints the trend per case.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
HISTORY = RESULTS / "history"
DATA = RESULTS / "tmp" / "data"
WORK = RESULTS / "tmp" / "work"
sys.path.insert(0, str(HERE))

OBSERVED = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
OBSERVED_DAY = OBSERVED.date()
TIKTOK_PAGE = 100  # the Research API's max_count
YOUTUBE_PAGE = 50  # videos.list takes at most 50 ids
LARGE_PAGE = 50_000  # the earlier benchmark's pages: a shape no API gives, kept as a secondary case
ACCOUNTS = 20_000
HISTORY_DAYS = 365
HISTORY_START = date(2025, 8, 1)
# the targets: ratios to the native load, except where the unit says otherwise
FIRST_LOAD = 1.5
LOAD_PATH = 1.3
REPLAY = 0.3
AUDIT = 0.25
NIGHTLY = 1.2
SMALL_LOAD_EXTRA_SECONDS = 2.0
DEMO_SECONDS = 30.0
PEAK_MIB = 1024

TIKTOK_COLUMNS = (
    "{data: 'STRUCT(videos STRUCT(id UBIGINT, create_time BIGINT, username VARCHAR,"
    " video_description VARCHAR, video_duration INTEGER, view_count BIGINT, like_count BIGINT,"
    " comment_count BIGINT, share_count BIGINT, favourites_count BIGINT)[])'}"
)
TIKTOK_TABLE = (
    "create table post_daily (platform varchar, post_id varchar, account_id varchar, day date,"
    " published_at timestamptz, caption varchar, duration_seconds integer, views bigint,"
    " likes bigint, comments bigint, shares bigint, saves bigint,"
    " primary key (platform, post_id, day))"
)
YOUTUBE_LIST_COLUMNS = (
    "{items: 'STRUCT(id VARCHAR, snippet STRUCT(publishedAt VARCHAR, channelId VARCHAR,"
    " title VARCHAR), contentDetails STRUCT(duration VARCHAR), statistics STRUCT(viewCount"
    " VARCHAR, likeCount VARCHAR, commentCount VARCHAR))[]'}"
)
YOUTUBE_LIST_TABLE = (
    "create table post_daily (platform varchar, post_id varchar, account_id varchar, day date,"
    " published_at timestamptz, caption varchar, duration varchar, views bigint, likes bigint,"
    " comments bigint, primary key (platform, post_id, day))"
)
YOUTUBE_TABLE = (
    "create table post_daily (platform varchar, post_id varchar, account_id varchar, day date,"
    " caption varchar, published varchar, duration varchar, views varchar, likes bigint,"
    " comments bigint, shares bigint, primary key (platform, post_id, day))"
)


# ---- inputs (generated once, kept under results/tmp)


def tiktok_input(rows: int, page_rows: int = TIKTOK_PAGE, *, findings: bool = False) -> Path:
    """TikTok Research pages; with ``findings``, 10% of the pages trip a warning and 1% hold
    a row failing a critical row rule."""
    import gen

    folder = DATA / f"tiktok_{rows}_{page_rows}{'_findings' if findings else ''}"
    if not (folder / ".done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        gen.tiktok_pages(
            folder,
            rows=rows,
            page_rows=page_rows,
            accounts=ACCOUNTS,
            warning_pages=10 if findings else 0,
            critical_pages=100 if findings else 0,
        )
        (folder / ".done").touch()
    return folder


def youtube_list_input(rows: int) -> Path:
    import gen

    folder = DATA / f"youtube_videos_{rows}"
    if not (folder / ".done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        gen.youtube_videos_pages(folder, rows=rows, page_items=YOUTUBE_PAGE, channels=ACCOUNTS)
        (folder / ".done").touch()
    return folder


def youtube_studio_input(rows: int) -> Path:
    import gen

    path = DATA / f"youtube_{rows}" / "Content 2026-08-04_2026-08-31 Bench.zip"
    if not path.exists():
        gen.youtube_studio_zip(path, rows=rows, bad_every=10_007)
    csv = path.with_name("Table data.csv")
    if not csv.exists():
        import zipfile

        with zipfile.ZipFile(path) as archive:
            csv.write_bytes(archive.read("Table data.csv"))
    return path


# ---- measured work (runs inside a child process)

# the steps of ``ingest load`` timed apart, by the module attribute the load calls; a name a
# later version no longer has is simply not reported
PHASES = (
    ("ingest.pipeline", "stage_files", "stage"),
    ("ingest.pipeline", "audit_batches", "audit"),
    ("ingest.pipeline", "publish_audited", "publish"),
    ("ingest.refresh", "rebuild_marts", "marts"),
    ("ingest.refresh", "audit_marts", "marts_audit"),
    ("ingest.refresh", "publish_bi", "bi_copy"),
)
# what "the load path without audit and marts" leaves out of the whole load
NOT_LOAD_PATH = ("audit", "marts", "marts_audit", "bi_copy")


def _time_phases() -> dict[str, float]:
    """Wrap the load's steps so the seconds spent in each add up in the returned dict."""
    import importlib

    spent: dict[str, float] = {}
    for module_name, attr, phase in PHASES:
        module = importlib.import_module(module_name)
        original = getattr(module, attr, None)
        if original is None:
            continue

        def timed(
            *args: Any, _original: Callable[..., Any] = original, _phase: str = phase, **kw: Any
        ) -> Any:
            start = time.perf_counter()
            try:
                return _original(*args, **kw)
            finally:
                spent[_phase] = spent.get(_phase, 0.0) + time.perf_counter() - start

        setattr(module, attr, timed)
    return spent


def _settings(folder: Path) -> Any:
    from ingest.config import Settings

    return Settings.from_env(folder / "warehouse" / "creators.duckdb")


def _project_load(
    paths: list[Path],
    settings: Any,
    phases: dict[str, float],
    *,
    account: str | None = None,
    day: date | None = OBSERVED_DAY,
    expect: frozenset[str] = frozenset({"published"}),
) -> dict[str, Any]:
    """The whole ``ingest load`` of ``paths``: land, parse, row rules, audit, publish, marts,
    BI copy; with the seconds of each step and the load path without audit and marts."""
    from collections import Counter

    from ingest.pipeline import load_files

    phases.clear()
    start = time.perf_counter()
    results = load_files(paths, settings, account=account, day=day)
    seconds = time.perf_counter() - start
    statuses = Counter(r.status for r in results)
    if set(statuses) - expect:
        raise SystemExit(f"unexpected load outcomes {dict(statuses)}")
    return {
        "seconds": seconds,
        "load_path_seconds": seconds - sum(phases.get(p, 0.0) for p in NOT_LOAD_PATH),
        "phases": dict(phases),
        "statuses": dict(statuses),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
    }


def _migrated(settings: Any) -> None:
    from ingest.warehouse import writer

    with writer(settings):
        pass  # creating and migrating the warehouse is one-time set-up, like the baseline's DDL


def _native(db: Path, table: str, query: str) -> float:
    """DuckDB's own load: one INSERT from the files into the keyed table, and its checkpoint."""
    import duckdb

    conn = duckdb.connect(str(db))
    conn.execute("set TimeZone = 'UTC'")
    conn.execute(table)
    start = time.perf_counter()
    conn.execute(query)
    conn.execute("checkpoint")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def _native_tiktok(folder: Path, db: Path) -> float:
    return _native(
        db,
        TIKTOK_TABLE,
        "insert into post_daily select 'tiktok', cast(v.id as varchar), v.username,"
        " date '2026-09-01', to_timestamp(v.create_time), v.video_description, v.video_duration,"
        " v.view_count, v.like_count, v.comment_count, v.share_count, v.favourites_count"
        f" from (select unnest(data.videos) as v from read_json('{folder}/*.json',"
        f" format = 'unstructured', columns = {TIKTOK_COLUMNS},"
        " maximum_object_size = 1000000000))",
    )


def _native_youtube_list(folder: Path, db: Path) -> float:
    return _native(
        db,
        YOUTUBE_LIST_TABLE,
        "insert into post_daily select 'youtube', v.id, v.snippet.channelId, date '2026-09-01',"
        " cast(v.snippet.publishedAt as timestamptz), v.snippet.title, v.contentDetails.duration,"
        " cast(v.statistics.viewCount as bigint), cast(v.statistics.likeCount as bigint),"
        " cast(v.statistics.commentCount as bigint)"
        f" from (select unnest(items) as v from read_json('{folder}/*.json',"
        f" format = 'unstructured', columns = {YOUTUBE_LIST_COLUMNS},"
        " maximum_object_size = 1000000000))",
    )


def _native_youtube_studio(csv: Path, db: Path) -> float:
    return _native(
        db,
        YOUTUBE_TABLE,
        "insert into post_daily select 'youtube', \"Content\", 'UCbench', date '2026-08-31',"
        ' "Video title", "Video publish time", "Duration", "Views", try_cast("Likes" as bigint),'
        ' "Comments added", "Shares"'
        f" from read_csv('{csv}', header = true, types = {{'Content': 'VARCHAR',"
        " 'Views': 'VARCHAR', 'Likes': 'VARCHAR', 'Comments added': 'BIGINT',"
        " 'Shares': 'BIGINT'}) where \"Content\" <> 'Total'",
    )


def _own_peak_rss_mib() -> float | None:
    """This process's peak resident memory (``VmHWM``, reset by exec, unlike ``ru_maxrss``)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def _cold(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time and peak memory of a fresh process, imports and all."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {err.decode(errors='replace')[-2000:]}")
    return {"seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024}


def _ingest_command() -> str:
    return str(Path(sys.executable).with_name("ingest"))


def child(case: str, variant: str, arg: str, work: Path) -> dict[str, Any]:
    """One measurement; imports happen before the clock starts."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if variant == "baseline":
        import duckdb

        db = work / "baseline.duckdb"
        if case == "native_tiktok":
            return {"seconds": _native_tiktok(Path(arg), db)}
        if case == "native_youtube_list":
            return {"seconds": _native_youtube_list(Path(arg), db)}
        if case == "native_youtube_studio":
            return {"seconds": _native_youtube_studio(Path(arg).with_name("Table data.csv"), db)}
        if case == "gx_import":
            return _cold([sys.executable, "-c", "import great_expectations"], work)
        raise SystemExit(f"unknown baseline {case}")
    if case == "demo":
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
        return _cold([_ingest_command(), "demo"], work, env)
    if case == "small_load":
        return _small_load(work)

    import duckdb  # noqa: F401
    import pandas  # noqa: F401  (duckdb loads it on the first parameter binding)
    import pyarrow  # noqa: F401

    import ingest.pipeline
    import ingest.refresh  # noqa: F401
    from ingest import validation

    # importing GX is library import (excluded like duckdb's); its context, suites and Data
    # Docs are work every load pays, so they are timed
    validation.preload()
    phases = _time_phases()
    settings = _settings(work)
    if case in ("load", "replay", "findings"):
        paths = sorted(p for p in Path(arg).iterdir() if p.suffix in (".json", ".zip"))
        _migrated(settings)
        account = "UCbench" if paths[0].suffix == ".zip" else None
        if case == "replay":
            _project_load(paths, settings, phases, account=account)
            # the same bytes again: reported unchanged, nothing parsed or published again
            return _project_load(
                paths, settings, phases, account=account, expect=frozenset({"unchanged"})
            )
        return _project_load(paths, settings, phases, account=account)
    if case == "audit":
        from ingest.pipeline import stage_files

        files = sorted(Path(arg).glob("*.json"))
        batches, refused = stage_files(files, settings, day=OBSERVED.date())
        assert not refused, refused
        start = time.perf_counter()
        # as the pipeline runs it: one audit of all the run's batches, with Data Docs
        reports = validation.audit_batches(batches, settings)
        seconds = time.perf_counter() - start
        for batch in batches:
            batch.discard()
        if not all(r.passed for r in reports):
            raise SystemExit("audit failed on clean bench data")
        return {"seconds": seconds}
    if case == "nightly":
        history, day_input, day = arg.split("|")
        settings.warehouse.parent.mkdir(parents=True)
        if history:
            # a year of history includes the BI copy the last nightly run published
            shutil.copy(history, settings.warehouse)
            shutil.copy(_history_bi(Path(history)), settings.bi_warehouse)
        _migrated(settings)
        files = sorted(Path(day_input).glob("*.json"))
        return _project_load(files, settings, phases, day=date.fromisoformat(day))
    raise SystemExit(f"unknown case {case}")


def _small_load(work: Path) -> dict[str, Any]:
    """``ingest load`` of a one-row file into an existing warehouse, in a cold process."""
    import gen
    from ingest.pipeline import load_files

    settings = _settings(work)
    # the warehouse exists: an earlier load (of another account) made it and its BI copy
    first = gen.business_discovery_one_row(work / "inbox" / "first.json", account="178414000001")
    load_files([first], settings)
    one_row = gen.business_discovery_one_row(work / "inbox" / "one.json")
    env = dict(os.environ, INGEST_WAREHOUSE=str(settings.warehouse))
    return _cold([_ingest_command(), "load", str(one_row)], work, env)


# ---- nightly: a warehouse with a year of history


def nightly_inputs(scale: float) -> tuple[Path, Path, Path, date, date]:
    """History warehouse, the input of the day after it and of day 1 of an empty one, in
    API-sized pages."""
    import gen

    accounts = nightly_accounts(scale)
    # v3: the history is refreshed as a night ends (audited, nothing left held) and holds the
    # year's load log
    folder = DATA / f"nightly_v3_{accounts}"
    warehouse = folder / "history.duckdb"
    day366 = HISTORY_START + timedelta(days=HISTORY_DAYS)
    day1 = day366 - timedelta(days=HISTORY_DAYS)
    observed = datetime.combine(day366, datetime.min.time(), UTC) + timedelta(hours=6)
    inputs = []
    for name, when in (
        ("day_input_100", observed),
        ("day1_input_100", observed - timedelta(days=HISTORY_DAYS)),
    ):
        day_in = folder / name
        if not (day_in / ".done").exists():
            shutil.rmtree(day_in, ignore_errors=True)
            gen.tiktok_pages(
                day_in, rows=accounts * 5, page_rows=TIKTOK_PAGE, accounts=accounts, observed=when
            )
            (day_in / ".done").touch()
        inputs.append(day_in)
    if not (warehouse.exists() and _history_bi(warehouse).exists()):
        _build_history(warehouse, accounts)
    return warehouse, inputs[0], inputs[1], day366, day1


def nightly_accounts(scale: float) -> int:
    return max(100, int(ACCOUNTS * scale))


def _history_bi(warehouse: Path) -> Path:
    """The BI copy published with the history warehouse (``Settings``' naming)."""
    return warehouse.with_name(warehouse.stem + "_bi" + warehouse.suffix)


def _build_history(path: Path, accounts: int) -> None:
    from ingest.config import Settings
    from ingest.refresh import refresh_marts
    from ingest.warehouse import writer

    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    settings = Settings.from_env(tmp)
    settings.bi_warehouse.unlink(missing_ok=True)
    with writer(settings) as conn:
        values = {
            "accounts": accounts,
            "days": HISTORY_DAYS,
            "start": HISTORY_START,
            "pages": max(1, accounts * 5 // TIKTOK_PAGE),
        }

        def run(sql: str) -> None:
            # dates plus integers: the day offsets must be INTEGER for DuckDB's date arithmetic
            sql = sql.replace("$start", f"date '{HISTORY_START.isoformat()}'")
            sql = sql.replace(
                "range($days) s(d)", "(select cast(range as integer) from range($days)) s(d)"
            )
            sql = sql.replace(
                "range(30) q(p)", "(select cast(range as integer) from range(30)) q(p)"
            )
            conn.execute(sql, {k: v for k, v in values.items() if f"${k}" in sql})

        run(
            "insert into core.accounts (platform, account_id, handle, load_id, observed_at)"
            " select 'tiktok', printf('creator%05d', a), printf('creator%05d', a), 'history',"
            " timestamptz '2025-08-01 06:00:00+00' from range($accounts) t(a)",
        )
        run(
            "insert into core.account_daily (platform, account_id, day, followers, following,"
            " posts_count, total_likes, day_timezone, load_id, observed_at)"
            " select 'tiktok', printf('creator%05d', a), $start + d, 1000 + a * 7 + d * 3, 100,"
            " 30 + d // 12, 5000 + d * 11, 'UTC', 'history', ($start + d)::timestamptz"
            " from range($accounts) t(a), range($days) s(d)",
        )
        run(
            "insert into core.posts (platform, post_id, account_id, published_at, media_type,"
            " permalink, load_id, observed_at)"
            " select 'tiktok', cast(7000000000000000000 + a * 1000 + p as varchar),"
            " printf('creator%05d', a), ($start + p * 12)::timestamptz, 'video', '', 'history',"
            " ($start + p * 12)::timestamptz from range($accounts) t(a), range(30) q(p)",
        )
        run(
            "insert into core.post_daily (platform, post_id, account_id, day, published_at, views,"
            " likes, comments, shares, saves, load_id, observed_at)"
            " select 'tiktok', cast(7000000000000000000 + a * 1000 + d // 12 as varchar),"
            " printf('creator%05d', a), $start + d, ($start + (d // 12) * 12)::timestamptz,"
            " 100 * d, 10 * d, d, d // 2, d // 3, 'history', ($start + d)::timestamptz"
            " from range($accounts) t(a), range($days) s(d)",
        )
        # the load log of a year of nights: one published load per page (5 videos per account
        # a night, 100 a page), as the nightly pulls would have left it
        run(
            "insert into meta.loads (load_id, platform, format, source_file, source_sha256,"
            " status, rows_read, rows_loaded, rows_quarantined, rows_inserted, rows_updated,"
            " rows_unchanged, started_at, finished_at, parser_version, landing_day)"
            " select printf('history-%03d-%06d', d, f), 'tiktok', 'research_video_query',"
            " printf('video_query_%05d.json', f + 1), sha256(printf('%d/%d', d, f)), 'published',"
            " 100, 100, 0, 100, 0, 0, ($start + d)::timestamptz, ($start + d)::timestamptz,"
            " 'history', $start + d"
            " from range($days) s(d), (select cast(range as integer) from range($pages)) p(f)",
        )
        run(
            "insert into meta.pending_mart_days select 'tiktok', printf('creator%05d', a),"
            " $start, $start + cast($days as integer), 'history' from range($accounts) t(a)",
        )
        # the refresh every night ends with: rebuild, audit (releasing the held ranges) and BI
        # copy; a rebuild alone would leave the year held, to be rebuilt again on day 366
        refresh = refresh_marts(conn, settings)
        if not refresh.published:
            raise SystemExit(f"the history's marts were not published: {refresh.message}")
    os.replace(settings.bi_warehouse, _history_bi(path))
    os.replace(tmp, path)


# ---- the parent: alternate, collect, report


def measure(case: str, variant: str, arg: str) -> dict[str, Any]:
    work = WORK / f"{case}_{variant}"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", case, variant, arg]
    command.append(str(work))
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{case}/{variant} failed with status {status}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    # the child's own high-water mark; ru_maxrss would also count the parent's memory at fork
    result.setdefault("peak_rss_mib", usage.ru_maxrss / 1024)
    shutil.rmtree(work, ignore_errors=True)
    return result


Spec = tuple[str, str, str]


def _side(samples: list[dict[str, Any]], rows: int) -> dict[str, Any]:
    seconds = statistics.median(s["seconds"] for s in samples)
    side: dict[str, Any] = {
        "seconds": seconds,
        "rows_per_second": rows / seconds if seconds and rows else None,
        "peak_rss_mib": max(s["peak_rss_mib"] for s in samples),
        "samples": samples,
    }
    if all("load_path_seconds" in s for s in samples):
        side["load_path_seconds"] = statistics.median(s["load_path_seconds"] for s in samples)
        names = sorted({p for s in samples for p in s.get("phases", {})})
        side["phases"] = {
            p: statistics.median(s.get("phases", {}).get(p, 0.0) for s in samples) for p in names
        }
    return side


def compare(name: str, rows: int, files: int, pair: tuple[Spec, Spec], runs: int) -> dict[str, Any]:
    """Alternate the two measurements ``runs`` times; medians and the ratio of medians."""
    samples: dict[str, list[dict[str, Any]]] = {"project": [], "baseline": []}
    labels = ("project", "baseline")
    for run in range(runs):
        order = list(zip(labels, pair, strict=True))
        if run % 2:
            order.reverse()  # neither side always runs first on a warm cache
        for label, (case, variant, arg) in order:
            samples[label].append(measure(case, variant, arg))
            print(
                f"  {name} {label} run {run + 1}: {samples[label][-1]['seconds']:.2f} s", flush=True
            )
    result: dict[str, Any] = {"case": name, "rows": rows, "files": files, "runs": runs}
    for label in labels:
        result[label] = _side(samples[label], rows)
    result["ratio"] = result["project"]["seconds"] / result["baseline"]["seconds"]
    return result


def solo(name: str, spec: Spec, runs: int) -> dict[str, Any]:
    """A measurement with an absolute target and no baseline."""
    samples = []
    for run in range(runs):
        samples.append(measure(*spec))
        print(f"  {name} run {run + 1}: {samples[-1]['seconds']:.2f} s", flush=True)
    return {"case": name, "rows": 0, "files": 0, "runs": runs, "project": _side(samples, 0)}


def target(label: str, value: float, goal: float, unit: str = "x") -> dict[str, Any]:
    return {"label": label, "value": value, "target": goal, "unit": unit, "met": value <= goal}


@dataclass(frozen=True)
class Case:
    """A benchmark case: what it measures, at full scale, and the targets it reports."""

    name: str
    what: str
    run: Callable[[float, int], dict[str, Any]]


def _load_case(
    name: str, folder: Callable[[float], Path], rows: int, baseline: str, *, replay: bool = False
) -> Callable[[float, int], dict[str, Any]]:
    def run(scale: float, runs: int) -> dict[str, Any]:
        path = folder(scale)
        n = max(1, int(rows * scale))
        files = sum(1 for p in path.iterdir() if p.suffix in (".json", ".zip"))
        kind = "replay" if replay else "findings" if "findings" in name else "load"
        native = (
            str(path / next(p.name for p in path.iterdir() if p.suffix == ".zip"))
            if baseline == "native_youtube_studio"
            else str(path)
        )
        result = compare(
            name, n, files, ((kind, "project", str(path)), (baseline, "baseline", native)), runs
        )
        p, b = result["project"], result["baseline"]
        if replay:
            result["targets"] = [target("replay / native first load", result["ratio"], REPLAY)]
        else:
            result["targets"] = [
                target("whole ingest load / native", result["ratio"], FIRST_LOAD),
                target(
                    "load path without audit and marts / native",
                    p["load_path_seconds"] / b["seconds"],
                    LOAD_PATH,
                ),
            ]
            if rows >= 5_000_000:
                result["targets"].append(target("peak memory", p["peak_rss_mib"], PEAK_MIB, "MiB"))
        return result

    return run


def _scaled(rows: int, scale: float, page: int) -> int:
    return max(page, int(rows * scale))


def _audit(scale: float, runs: int) -> dict[str, Any]:
    folder = tiktok_input(_scaled(1_000_000, scale, TIKTOK_PAGE))
    files = sum(1 for _ in folder.glob("*.json"))
    rows = _scaled(1_000_000, scale, TIKTOK_PAGE)
    result = compare(
        "gx_audit_1m",
        rows,
        files,
        (("audit", "project", str(folder)), ("native_tiktok", "baseline", str(folder))),
        runs,
    )
    result["targets"] = [target("audit of the staged rows / native", result["ratio"], AUDIT)]
    return result


def _nightly(scale: float, runs: int) -> dict[str, Any]:
    history, day366, day1, d366, d1 = nightly_inputs(scale)
    accounts = nightly_accounts(scale)
    result = compare(
        "nightly_day366_vs_day1",
        accounts * 5,
        sum(1 for _ in day366.glob("*.json")),
        (
            ("nightly", "project", f"{history}|{day366}|{d366}"),
            ("nightly", "project", f"|{day1}|{d1}"),
        ),
        runs,
    )
    result["note"] = (
        f"project = day 366 on a year of history for {accounts:,} accounts;"
        " baseline = the same day's load on an empty warehouse (day 1)"
    )
    p, b = result["project"]["phases"], result["baseline"]["phases"]
    after = ("marts", "marts_audit", "bi_copy")
    p_after, b_after = sum(p.get(k, 0.0) for k in after), sum(b.get(k, 0.0) for k in after)
    result["targets"] = [
        target("whole nightly load, day 366 / day 1", result["ratio"], NIGHTLY),
        target(
            "marts + audit + BI copy, day 366 / day 1",
            p_after / b_after if b_after else 0.0,
            NIGHTLY,
        ),
    ]
    return result


def _small(scale: float, runs: int) -> dict[str, Any]:
    result = compare(
        "small_load",
        1,
        1,
        (("small_load", "project", "-"), ("gx_import", "baseline", "-")),
        runs,
    )
    extra = result["project"]["seconds"] - result["baseline"]["seconds"]
    result["targets"] = [
        target(
            "cold `ingest load` of one row - bare `import great_expectations`",
            extra,
            SMALL_LOAD_EXTRA_SECONDS,
            "s",
        )
    ]
    return result


def _demo(scale: float, runs: int) -> dict[str, Any]:
    result = solo("demo", ("demo", "project", "-"), runs)
    result["targets"] = [
        target("`ingest demo`, cold", result["project"]["seconds"], DEMO_SECONDS, "s")
    ]
    return result


CASES: tuple[Case, ...] = (
    Case(
        "tiktok_1m",
        "1M TikTok Research videos in pages of 100 (10,000 files), first load",
        _load_case(
            "tiktok_1m",
            lambda s: tiktok_input(_scaled(1_000_000, s, TIKTOK_PAGE)),
            1_000_000,
            "native_tiktok",
        ),
    ),
    Case(
        "tiktok_1m_replay",
        "the same 10,000 pages loaded again (bytes already published)",
        _load_case(
            "tiktok_1m_replay",
            lambda s: tiktok_input(_scaled(1_000_000, s, TIKTOK_PAGE)),
            1_000_000,
            "native_tiktok",
            replay=True,
        ),
    ),
    Case(
        "tiktok_1m_findings",
        "1M videos in pages of 100; 10% of the pages trip a warning, 1% a critical row rule",
        _load_case(
            "tiktok_1m_findings",
            lambda s: tiktok_input(_scaled(1_000_000, s, TIKTOK_PAGE), findings=True),
            1_000_000,
            "native_tiktok",
        ),
    ),
    Case(
        "tiktok_5m",
        "5M videos in pages of 100 (50,000 files), first load, peak memory",
        _load_case(
            "tiktok_5m",
            lambda s: tiktok_input(_scaled(5_000_000, s, TIKTOK_PAGE)),
            5_000_000,
            "native_tiktok",
        ),
    ),
    Case(
        "youtube_1m",
        "1M YouTube videos in videos.list pages of 50 (20,000 files), first load",
        _load_case(
            "youtube_1m",
            lambda s: youtube_list_input(_scaled(1_000_000, s, YOUTUBE_PAGE)),
            1_000_000,
            "native_youtube_list",
        ),
    ),
    Case(
        "gx_audit_1m",
        "the Great Expectations audit of 1M staged rows (10,000 batches)",
        _audit,
    ),
    Case(
        "nightly_day366_vs_day1",
        "a nightly load on a year of history against the same load on an empty warehouse",
        _nightly,
    ),
    Case("small_load", "`ingest load` of a one-row file into an existing warehouse, cold", _small),
    Case("demo", "`ingest demo` (what `make demo` runs after install), cold", _demo),
    Case(
        "tiktok_1m_large_pages",
        "secondary: 1M videos in pages of 50,000 (a shape no API gives)",
        _load_case(
            "tiktok_1m_large_pages",
            lambda s: tiktok_input(_scaled(1_000_000, s, TIKTOK_PAGE), LARGE_PAGE),
            1_000_000,
            "native_tiktok",
        ),
    ),
    Case(
        "youtube_studio_1m",
        "secondary: a YouTube Studio export of 1M rows (one zip)",
        _load_case(
            "youtube_studio_1m",
            lambda s: youtube_studio_input(_scaled(1_000_000, s, 1)).parent,
            1_000_000,
            "native_youtube_studio",
        ),
    ),
)
CASE_NAMES = (*tuple(c.name for c in CASES), "dag_parse")


def dag_parse(runs: int) -> dict[str, Any] | None:
    """Parse time of the DAG files, cold and as Airflow's DAG processor pays it.

    Cold: the first parse in a fresh interpreter, with the imports of ``airflow.sdk`` and what
    it loads lazily. Warm: parsing the files again in that interpreter, which is what the DAG
    processor pays per parse once its process has those imports.
    Also lists which heavy libraries a parse imported: none should be.
    """
    dags = sorted((ROOT / "dags").glob("*.py"))
    if not dags:
        return None
    code = (
        "import importlib.util, json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "import airflow.sdk\n"
        "def parse(tag):\n"
        "    for i, p in enumerate(sys.argv[1:]):\n"
        "        spec = importlib.util.spec_from_file_location(f'dag{tag}{i}', p)\n"
        "        spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "parse('first')\n"
        "t1 = time.perf_counter()\n"
        "parse('again')\n"
        "t2 = time.perf_counter()\n"
        "heavy = [m for m in ('duckdb', 'great_expectations', 'pandas', 'pyarrow', 'plotly')\n"
        "         if m in sys.modules]\n"
        "print(json.dumps({'cold': t1 - t0, 'warm': t2 - t1, 'heavy': heavy}))\n"
    )
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code, *map(str, dags)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "case": "dag_parse",
        "files": [d.name for d in dags],
        "seconds": statistics.median(s["cold"] for s in samples),
        "warm_seconds": statistics.median(s["warm"] for s in samples),
        "heavy_imports": sorted({m for s in samples for m in s["heavy"]}),
        "samples": samples,
    }


def _commit() -> str:
    """The commit measured, ``+dirty`` when the tree (results aside) has changes."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    head = git("rev-parse", "--short=10", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", ".", ":(exclude)bench/results")
    return head + ("+dirty" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs per case (median)")
    parser.add_argument(
        "--cases",
        help=f"comma-separated cases to measure (default all): {', '.join(CASE_NAMES)}",
    )
    parser.add_argument("--only", action="append", choices=CASE_NAMES, help="one case (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--child", nargs=4, metavar=("CASE", "VARIANT", "ARG", "WORK"))
    args = parser.parse_args()
    if args.child:
        case, variant, arg, work = args.child
        result = child(case, variant, arg, Path(work))
        if (peak := _own_peak_rss_mib()) is not None:
            result.setdefault("peak_rss_mib", peak)
        print(json.dumps(result))
        return
    if args.list:
        for case in CASES:
            print(f"{case.name:<24} {case.what}")
        print(f"{'dag_parse':<24} parse time of the DAG files, cold and warm")
        return
    wanted = [c.strip() for c in (args.cases or "").split(",") if c.strip()] + (args.only or [])
    unknown = sorted(set(wanted) - set(CASE_NAMES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; --list shows them")
    wanted = wanted or list(CASE_NAMES)
    started = time.perf_counter()
    scale, runs = args.scale, args.runs
    results: list[dict[str, Any]] = []
    for case in CASES:
        if case.name in wanted:
            print(f"{case.name} (scale {scale}): {case.what}", flush=True)
            result = case.run(scale, runs)
            result["what"] = case.what
            results.append(result)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "scale": scale,
        "runs": runs,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "cases": wanted,
        "results": results,
        "dag_parse": dag_parse(runs) if "dag_parse" in wanted else None,
        "total_seconds": time.perf_counter() - started,
    }
    path = record(report)
    print(markdown(report))
    print(f"kept as {path.relative_to(ROOT)}; latest per case in bench/results/latest.md")


def record(report: dict[str, Any]) -> Path:
    """Keep the run in the history and rewrite ``latest.{json,md}`` from the newest result of
    every case (each row says the scale and commit it was measured at)."""
    HISTORY.mkdir(parents=True, exist_ok=True)
    stamp = report["generated_at"][:19].replace("-", "").replace(":", "")
    path = HISTORY / f"{stamp}-{report['commit'].replace('+', '-')}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    write_latest(report["generated_at"])
    return path


def write_latest(generated_at: str) -> None:
    """``latest.{json,md}``: the newest result of every case in the history."""
    newest: dict[str, dict[str, Any]] = {}
    dag = None
    for kept in sorted(HISTORY.glob("*.json")):
        run = json.loads(kept.read_text())
        for result in run.get("results", []):
            newest[result["case"]] = {**result, **_run_facts(run)}
        if run.get("dag_parse"):
            dag = run["dag_parse"]
    order = [c.name for c in CASES]
    latest = {
        "generated_at": generated_at,
        "results": sorted(
            newest.values(),
            key=lambda r: order.index(r["case"]) if r["case"] in order else len(order),
        ),
        "dag_parse": dag,
    }
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2, default=str) + "\n")
    (RESULTS / "latest.md").write_text(markdown(latest))


def _run_facts(run: dict[str, Any]) -> dict[str, Any]:
    return {k: run.get(k) for k in ("generated_at", "commit", "scale", "cpus")}


def markdown(report: dict[str, Any]) -> str:
    """One line per target: the case, its size, both sides' medians, the figure and the target."""
    facts = _run_facts(report)
    head = f"# Benchmarks ({report['generated_at'][:19]}Z"
    if facts.get("scale") is not None:
        head += f", commit {facts['commit']}, scale {facts['scale']}, {facts['cpus']} CPUs"
    lines = [
        head + ")",
        "",
        "| case | scale | rows (files) | project s | baseline s | figure | value | target | met |"
        " project peak MiB | measured |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|---:|---|",
    ]
    for r in report["results"]:
        p, b = r["project"], r.get("baseline")
        size = f"{r['rows']:,} ({r['files']:,})" if r["rows"] else "-"
        baseline = f"{b['seconds']:.2f}" if b else "-"
        for t in r.get("targets", []):
            unit = t["unit"]
            value = f"{t['value']:.2f}{unit if unit == 'x' else ' ' + unit}"
            goal = f"≤ {t['target']:g}{unit if unit == 'x' else ' ' + unit}"
            lines.append(
                f"| {r['case']} | {r.get('scale', facts.get('scale'))} | {size} |"
                f" {p['seconds']:.2f} | {baseline} | {t['label']} |"
                f" {value} | {goal} | {'yes' if t['met'] else 'no'} | {p['peak_rss_mib']:.0f} |"
                f" {str(r.get('generated_at', report['generated_at']))[:10]}"
                f" {r.get('commit', facts.get('commit'))} |"
            )
    lines += ["", "Where the project's time went (medians, seconds):", ""]
    for r in report["results"]:
        for side in ("project", "baseline"):
            phases = (r.get(side) or {}).get("phases")
            if phases:
                shown = ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
                lines.append(f"- {r['case']} {side}: {shown}")
    dag = report.get("dag_parse")
    lines += [
        "",
        f"DAG parse of {', '.join(dag['files'])}: {dag['warm_seconds'] * 1000:.0f} ms per parse"
        f" with airflow imported (what the DAG processor pays), {dag['seconds']:.2f} s in"
        " a fresh interpreter; heavy libraries imported at parse time:"
        f" {', '.join(dag['heavy_imports']) or 'none'}"
        if dag
        else "DAG parse: not measured",
    ]
    if "total_seconds" in report:
        lines.append(f"Whole run: {report['total_seconds']:.0f} s")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
