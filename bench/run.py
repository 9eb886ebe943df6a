"""Benchmarks: the project's load path against DuckDB's own native load of the same rows.

Every measurement runs in a child process that imports its libraries first and times only the
work, so interpreter and library import are excluded and the child's RSS high-water mark
(``wait4`` rusage) is that measurement's peak memory. The project and the baseline alternate,
run after run, so a noisy neighbour slows both; the report gives medians and the ratio
project/baseline of the medians. Usage: ``python bench/run.py [--scale 0.1] [--runs 3]``.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DATA = RESULTS / "tmp" / "data"
WORK = RESULTS / "tmp" / "work"
sys.path.insert(0, str(HERE))

OBSERVED = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
PAGE_ROWS = 50_000
ACCOUNTS = 20_000
HISTORY_DAYS = 365
HISTORY_START = date(2025, 8, 1)
CASES = (
    "tiktok_first_load",
    "tiktok_rerun",
    "tiktok_5m_first_load",
    "youtube_studio_first_load",
    "gx_audit",
    "nightly_day366_vs_day1",
    "dag_parse",
)

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
YOUTUBE_TABLE = (
    "create table post_daily (platform varchar, post_id varchar, account_id varchar, day date,"
    " caption varchar, published varchar, duration varchar, views varchar, likes bigint,"
    " comments bigint, shares bigint, primary key (platform, post_id, day))"
)


# ---- inputs (generated once, kept under results/tmp)


def tiktok_input(rows: int) -> Path:
    import gen

    folder = DATA / f"tiktok_{rows}"
    done = folder / ".done"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        # a few rows of every odd shape in the first page, so quarantine is on the path too
        gen.tiktok_pages(folder, rows=rows, page_rows=PAGE_ROWS, accounts=ACCOUNTS)
        done.touch()
    return folder


def youtube_input(rows: int) -> Path:
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


def _settings(folder: Path) -> Any:
    from ingest.config import Settings

    return Settings.from_env(folder / "warehouse" / "creators.duckdb")


def _project_load(files: list[Path], settings: Any, account: str | None) -> dict[str, float]:
    """Land, parse, check and publish every file; marts and BI copy timed apart."""
    from ingest.bi_copy import publish_bi
    from ingest.pipeline import stage_files
    from ingest.publish import publish
    from ingest.transforms import rebuild_marts
    from ingest.warehouse import writer

    with writer(settings):
        pass  # creating and migrating the warehouse is one-time set-up, like the baseline's DDL
    start = time.perf_counter()
    batches, refused = stage_files(files, settings, account=account, day=OBSERVED.date())
    assert not refused, refused
    staged = time.perf_counter()
    with writer(settings) as conn:
        for batch in batches:
            publish(conn, batch)
            batch.discard()
        published = time.perf_counter()
        rebuild_marts(conn)
        publish_bi(conn, settings)
    done = time.perf_counter()
    return {
        "seconds": published - start,
        "stage_seconds": staged - start,
        "publish_seconds": published - staged,
        "marts_seconds": done - published,
    }


def _baseline_tiktok(folder: Path, db: Path, upsert: bool) -> float:
    import duckdb

    conn = duckdb.connect(str(db))
    conn.execute("set TimeZone = 'UTC'")
    insert = "insert or replace" if upsert else "insert"
    query = (
        f"{insert} into post_daily select 'tiktok', cast(v.id as varchar), v.username,"
        " date '2026-09-01', to_timestamp(v.create_time), v.video_description, v.video_duration,"
        " v.view_count, v.like_count, v.comment_count, v.share_count, v.favourites_count"
        f" from (select unnest(data.videos) as v from read_json('{folder}/*.json',"
        f" format = 'unstructured', columns = {TIKTOK_COLUMNS},"
        " maximum_object_size = 1000000000))"
    )
    if not upsert:
        conn.execute(TIKTOK_TABLE)
    start = time.perf_counter()
    conn.execute(query)
    conn.execute("checkpoint")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def _baseline_youtube(csv: Path, db: Path) -> float:
    import duckdb

    conn = duckdb.connect(str(db))
    conn.execute(YOUTUBE_TABLE)
    start = time.perf_counter()
    conn.execute(
        "insert into post_daily select 'youtube', \"Content\", 'UCbench', date '2026-08-31',"
        ' "Video title", "Video publish time", "Duration", "Views", try_cast("Likes" as bigint),'
        ' "Comments added", "Shares"'
        f" from read_csv('{csv}', header = true, types = {{'Content': 'VARCHAR',"
        " 'Views': 'VARCHAR', 'Likes': 'VARCHAR', 'Comments added': 'BIGINT',"
        " 'Shares': 'BIGINT'}) where \"Content\" <> 'Total'"
    )
    conn.execute("checkpoint")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


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


def child(case: str, variant: str, arg: str, work: Path) -> dict[str, Any]:
    """One measurement; imports happen before the clock starts."""
    import duckdb  # noqa: F401
    import pandas  # noqa: F401  (duckdb loads it on the first parameter binding)
    import pyarrow  # noqa: F401

    import ingest.pipeline
    import ingest.transforms  # noqa: F401

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if case in ("tiktok", "tiktok_rerun"):
        folder = Path(arg)
        files = sorted(folder.glob("*.json"))
        if variant == "baseline":
            db = work / "baseline.duckdb"
            if case == "tiktok_rerun":
                _baseline_tiktok(folder, db, upsert=False)
            return {"seconds": _baseline_tiktok(folder, db, upsert=case == "tiktok_rerun")}
        settings = _settings(work)
        if case == "tiktok_rerun":
            _project_load(files, settings, None)
        return _project_load(files, settings, None)
    if case == "youtube":
        zip_path = Path(arg)
        if variant == "baseline":
            return {
                "seconds": _baseline_youtube(zip_path.with_name("Table data.csv"), work / "b.db")
            }
        return _project_load([zip_path], _settings(work), "UCbench")
    if case == "audit":
        from ingest import validation
        from ingest.pipeline import stage_files

        # importing GX is library import (excluded like duckdb's); its context, suites and
        # Data Docs are work every run pays, so they are timed
        validation.preload()
        files = sorted(Path(arg).glob("*.json"))
        settings = _settings(work)
        batches, refused = stage_files(files, settings, day=OBSERVED.date())
        assert not refused, refused
        start = time.perf_counter()
        # as the pipeline runs it: one audit of all the run's batches, with Data Docs
        reports = validation.audit_batches(batches, settings)
        seconds = time.perf_counter() - start
        if not all(r.passed for r in reports):
            raise SystemExit("audit failed on clean bench data")
        return {"seconds": seconds}
    if case == "nightly":
        history, day_input = arg.split("|")
        settings = _settings(work)
        settings.warehouse.parent.mkdir(parents=True)
        if history:
            # a year of history includes the BI copy the last nightly run published
            shutil.copy(history, settings.warehouse)
            shutil.copy(_history_bi(Path(history)), settings.bi_warehouse)
        files = sorted(Path(day_input).glob("*.json"))
        return _project_load(files, settings, None)
    raise SystemExit(f"unknown case {case}")


# ---- nightly: a warehouse with a year of history


def nightly_inputs(scale: float) -> tuple[Path, Path, Path]:
    """History warehouse, and the input of the day after it (and of day 1 of an empty one)."""
    import gen

    accounts = max(100, int(ACCOUNTS * scale))
    folder = DATA / f"nightly_{accounts}"
    warehouse = folder / "history.duckdb"
    day366 = HISTORY_START + timedelta(days=HISTORY_DAYS)
    day_in = folder / "day_input"
    day1_in = folder / "day1_input"
    observed = datetime.combine(day366, datetime.min.time(), UTC) + timedelta(hours=6)
    if not (day_in / ".done").exists():
        shutil.rmtree(day_in, ignore_errors=True)
        gen.tiktok_pages(
            day_in, rows=accounts * 5, page_rows=PAGE_ROWS, accounts=accounts, observed=observed
        )
        (day_in / ".done").touch()
    if not (day1_in / ".done").exists():
        shutil.rmtree(day1_in, ignore_errors=True)
        gen.tiktok_pages(
            day1_in,
            rows=accounts * 5,
            page_rows=PAGE_ROWS,
            accounts=accounts,
            observed=observed - timedelta(days=HISTORY_DAYS),
        )
        (day1_in / ".done").touch()
    if not (warehouse.exists() and _history_bi(warehouse).exists()):
        _build_history(warehouse, accounts)
    return warehouse, day_in, day1_in


def _history_bi(warehouse: Path) -> Path:
    """The BI copy published with the history warehouse (``Settings``' naming)."""
    return warehouse.with_name(warehouse.stem + "_bi" + warehouse.suffix)


def _build_history(path: Path, accounts: int) -> None:
    from ingest.bi_copy import publish_bi
    from ingest.config import Settings
    from ingest.transforms import rebuild_marts
    from ingest.warehouse import writer

    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    settings = Settings.from_env(tmp)
    settings.bi_warehouse.unlink(missing_ok=True)
    with writer(settings) as conn:
        values = {"accounts": accounts, "days": HISTORY_DAYS, "start": HISTORY_START}

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
        run(
            "insert into meta.pending_mart_days select 'tiktok', printf('creator%05d', a),"
            " $start, $start + cast($days as integer), 'history' from range($accounts) t(a)",
        )
        rebuild_marts(conn)
        publish_bi(conn, settings)
    os.replace(settings.bi_warehouse, _history_bi(path))
    os.replace(tmp, path)


# ---- the parent: alternate, collect, report


def measure(case: str, variant: str, arg: str) -> dict[str, Any]:
    work = WORK / f"{case}_{variant}"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        case,
        variant,
        arg,
        str(work),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{case}/{variant} failed with status {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    # the child's own high-water mark; ru_maxrss would also count the parent's memory at fork
    result.setdefault("peak_rss_mib", usage.ru_maxrss / 1024)
    shutil.rmtree(work, ignore_errors=True)
    return result


def compare(
    name: str, rows: int, pair: tuple[tuple[str, str, str], tuple[str, str, str]], runs: int
) -> dict[str, Any]:
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
    summary: dict[str, Any] = {"case": name, "rows": rows, "runs": runs}
    for label in labels:
        seconds = statistics.median(s["seconds"] for s in samples[label])
        summary[label] = {
            "seconds": seconds,
            "rows_per_second": rows / seconds if seconds else None,
            "peak_rss_mib": max(s["peak_rss_mib"] for s in samples[label]),
            "samples": samples[label],
        }
    summary["ratio"] = summary["project"]["seconds"] / summary["baseline"]["seconds"]
    return summary


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only",
        action="append",
        choices=CASES,
        help="measure just this case (repeatable); the report then covers only those",
    )
    parser.add_argument("--child", nargs=4, metavar=("CASE", "VARIANT", "ARG", "WORK"))
    args = parser.parse_args()
    if args.child:
        case, variant, arg, work = args.child
        result = child(case, variant, arg, Path(work))
        if (peak := _own_peak_rss_mib()) is not None:
            result["peak_rss_mib"] = peak
        print(json.dumps(result))
        return
    started = time.perf_counter()
    scale, runs = args.scale, args.runs
    rows_1m, rows_5m = int(1_000_000 * scale), int(5_000_000 * scale)
    wanted = set(args.only or CASES)
    print(f"generating inputs (scale {scale}) ...", flush=True)
    results: list[dict[str, Any]] = []
    if wanted & {"tiktok_first_load", "tiktok_rerun", "gx_audit"}:
        t1 = str(tiktok_input(rows_1m))
    if "tiktok_first_load" in wanted:
        results.append(
            compare(
                "tiktok_first_load",
                rows_1m,
                (("tiktok", "project", t1), ("tiktok", "baseline", t1)),
                runs,
            )
        )
    if "tiktok_rerun" in wanted:
        results.append(
            compare(
                "tiktok_rerun",
                rows_1m,
                (("tiktok_rerun", "project", t1), ("tiktok_rerun", "baseline", t1)),
                runs,
            )
        )
    if "tiktok_5m_first_load" in wanted:
        t5m = str(tiktok_input(rows_5m))
        results.append(
            compare(
                "tiktok_5m_first_load",
                rows_5m,
                (("tiktok", "project", t5m), ("tiktok", "baseline", t5m)),
                1,
            )
        )
    if "youtube_studio_first_load" in wanted:
        yt = str(youtube_input(rows_1m))
        results.append(
            compare(
                "youtube_studio_first_load",
                rows_1m,
                (("youtube", "project", yt), ("youtube", "baseline", yt)),
                1,
            )
        )
    if "gx_audit" in wanted:
        results.append(
            compare(
                "gx_audit", rows_1m, (("audit", "project", t1), ("tiktok", "baseline", t1)), runs
            )
        )
    if "nightly_day366_vs_day1" in wanted:
        history, day366, day1 = nightly_inputs(scale)
        nightly = compare(
            "nightly_day366_vs_day1",
            max(100, int(ACCOUNTS * scale)) * 5,
            (("nightly", "project", f"{history}|{day366}"), ("nightly", "project", f"|{day1}")),
            runs,
        )
        nightly["note"] = "project = day 366 after a year of history; baseline = day 1, empty"
        for side in ("project", "baseline"):
            nightly[side]["seconds"] = statistics.median(
                s["seconds"] + s["marts_seconds"] for s in nightly[side]["samples"]
            )
        nightly["ratio"] = nightly["project"]["seconds"] / nightly["baseline"]["seconds"]
        results.append(nightly)
    report = {
        "generated_at": datetime.now(UTC).isoformat(),
        "scale": scale,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "results": results,
        "dag_parse": dag_parse(runs) if "dag_parse" in wanted else None,
        "total_seconds": time.perf_counter() - started,
    }
    RESULTS.mkdir(exist_ok=True)
    # a partial run must not pass for the full table; it goes under tmp/, which git ignores
    out = RESULTS / "latest" if not args.only else WORK.parent / "partial"
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str))
    out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


TARGETS = {
    "tiktok_first_load": 1.3,
    "tiktok_rerun": 1.3,
    "nightly_day366_vs_day1": 1.2,
    "gx_audit": 0.5,
}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Benchmarks ({report['generated_at'][:19]}Z, scale {report['scale']},"
        f" {report['cpus']} CPUs)",
        "",
        "| case | rows | project s | baseline s | ratio | target | project rows/s |"
        " project peak MiB | baseline peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        p, b = r["project"], r["baseline"]
        target = TARGETS.get(r["case"])
        verdict = (
            "" if target is None else f"≤ {target} {'met' if r['ratio'] <= target else 'not met'}"
        )
        lines.append(
            f"| {r['case']} | {r['rows']:,} | {p['seconds']:.2f} | {b['seconds']:.2f} |"
            f" {r['ratio']:.2f} | {verdict} | {p['rows_per_second'] or 0:,.0f} |"
            f" {p['peak_rss_mib']:.0f} | {b['peak_rss_mib']:.0f} |"
        )
    dag = report.get("dag_parse")
    lines += [
        "",
        f"DAG parse of {', '.join(dag['files'])}: {dag['warm_seconds'] * 1000:.0f} ms per parse"
        f" with airflow imported (what the DAG processor pays), {dag['seconds']:.2f} s in"
        " a fresh interpreter; heavy libraries imported at parse time:"
        f" {', '.join(dag['heavy_imports']) or 'none'}"
        if dag
        else "DAG parse: not measured",
        f"Whole run: {report['total_seconds']:.0f} s",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
