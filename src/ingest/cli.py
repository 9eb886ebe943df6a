"""The ``ingest`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

from ingest.config import Settings
from ingest.errors import IngestError
from ingest.platforms import names as platform_names
from ingest.stops import INTERRUPTED, exit_code, handling_stops, stopping


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-09-01, got {text!r}") from exc


RETRY_HELP = "parse again the files an earlier run rejected (they are skipped otherwise)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingest",
        description="Land, parse, audit and publish creator metrics into DuckDB.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True)

    def add_warehouse(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--warehouse",
            help="DuckDB file to write, or ducklake:postgres:<libpq conninfo>"
            " (env INGEST_WAREHOUSE; default warehouse/creators.duckdb)",
        )
        sub.add_argument(
            "--data-path",
            help="DuckLake only: where the lake's Parquet files live (env INGEST_LAKE_DATA_PATH)",
        )

    load = commands.add_parser("load", help="land, parse, audit and publish export files")
    load.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    load.add_argument("--platform", choices=platform_names(), help="skip platform detection")
    load.add_argument("--account", help="account id for files that do not name it")
    load.add_argument("--date", type=_day, help="the day snapshot files describe (default today)")
    load.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    add_warehouse(load)

    demo = commands.add_parser("demo", help="generate sample exports and run the whole pipeline")
    demo.add_argument("--creators", type=int, default=60)
    demo.add_argument("--days", type=int, default=35)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--out", type=Path, default=Path("demo-data"), help="where exports go")
    add_warehouse(demo)

    run = commands.add_parser("run", help="what the nightly DAG does for one day")
    run.add_argument("--date", type=_day, required=True)
    run.add_argument("--platform", choices=platform_names(), action="append", help="repeatable")
    run.add_argument("--inbox", type=Path, help="folder of exports: <inbox>/<platform>/<day>/")
    run.add_argument("--retry-rejected", action="store_true", help=RETRY_HELP)
    add_warehouse(run)

    backfill = commands.add_parser("backfill", help="reprocess a range of days from landing")
    backfill.add_argument("--start", type=_day, required=True)
    backfill.add_argument("--end", type=_day, required=True)
    backfill.add_argument(
        "--platform", choices=platform_names(), action="append", help="repeatable"
    )
    backfill.add_argument("--inbox", type=Path, help="folder of exports: <inbox>/<platform>/<day>/")
    backfill.add_argument("--retry-rejected", action="store_true", help=RETRY_HELP)
    add_warehouse(backfill)

    pull = commands.add_parser("pull", help="pull a platform API for one day into landing")
    pull.add_argument("--platform", choices=platform_names(), required=True)
    pull.add_argument("--date", type=_day, required=True)
    who = pull.add_mutually_exclusive_group()
    who.add_argument("--accounts", help="comma-separated account ids or handles")
    who.add_argument("--creators", type=Path, help="creators mapping CSV")
    pull.add_argument("--base-url", help="replace the platform's API host (tests, proxies)")
    pull.add_argument("--no-load", action="store_true", help="land only; do not publish")
    add_warehouse(pull)

    report = commands.add_parser("report", help="write an HTML report with charts")
    report.add_argument("--out", type=Path, default=Path("report.html"))
    add_warehouse(report)

    validate = commands.add_parser("validate", help="re-run the audit of a load, print results")
    validate.add_argument("load_id")
    validate.add_argument("--json", action="store_true")
    add_warehouse(validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(message)s",
    )
    # signal handlers can only be set from the main thread (tests may call main elsewhere)
    if threading.current_thread() is not threading.main_thread():
        return _dispatch(args)
    with handling_stops():
        code = _dispatch(args)
    if stopping() and code != exit_code():
        # stopped while something swallowed the signal: say so, and never report success
        print(INTERRUPTED, file=sys.stderr)
        return exit_code()
    return code


def run() -> NoReturn:
    """The ``ingest`` script and ``python -m ingest``: ``main``, then leave.

    After a stop the process leaves without the interpreter's teardown. By then every
    transaction has rolled back and the staging threads are joined, but native thread pools
    (DuckDB's, Arrow's, those of a library whose import was cut short) can still be alive, and
    tearing them down at exit aborted the process (``terminate called``, status -6) instead
    of the promised 143/130.
    """
    code = main()
    if stopping():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "load":
            return _load(args)
        if args.command == "demo":
            return _demo(args)
        if args.command in ("run", "backfill"):
            return _run(args)
        if args.command == "validate":
            return _validate(args)
        if args.command == "pull":
            return _pull(args)
        if args.command == "report":
            return _report(args)
    except IngestError as exc:
        if stopping():
            return _interrupted(exc)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: say so plainly, with the traceback only on request
        if stopping():
            return _interrupted(exc)
        logging.getLogger("ingest").debug("internal error", exc_info=True)
        print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with -v for details)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    raise AssertionError(args.command)


def _interrupted(exc: BaseException) -> int:
    logging.getLogger("ingest").debug("interrupted", exc_info=exc)
    print(INTERRUPTED, file=sys.stderr)
    return exit_code()


def _load(args: argparse.Namespace) -> int:
    from ingest.creators import load_mappings, split_mappings
    from ingest.pipeline import OK_STATUSES, load_files

    settings = Settings.from_env(args.warehouse, args.data_path)
    # a creators mapping loads first, so accounts loaded with it roll up under their creators
    mappings, paths = split_mappings(args.paths)
    if not mappings and not paths:
        shown = ", ".join(str(p) for p in args.paths)
        print(f"error: no files to load in {shown} (hidden files are skipped)", file=sys.stderr)
        return 1
    results = load_mappings(mappings, settings)
    results += load_files(
        paths, settings, platform=args.platform, account=args.account, day=args.date
    )
    for result in results:
        if args.json:
            print(json.dumps(result.to_dict()))
        elif result.status != "published" and result.status in OK_STATUSES:
            print(f"{result.source}: {result.status}: {result.message}")
        elif result.status == "published":
            print(
                f"{result.source}: {result.platform}/{result.format}: read {result.rows_read},"
                f" loaded {result.rows_loaded}, quarantined {result.rows_quarantined}"
                f" (load {result.load_id})"
            )
        if result.status not in OK_STATUSES:
            print(f"error: {result.message}", file=sys.stderr)
    return 0 if all(r.status in OK_STATUSES for r in results) else 1


def _demo(args: argparse.Namespace) -> int:
    from ingest.demo import run_demo

    settings = Settings.from_env(args.warehouse, args.data_path)
    summary = run_demo(
        settings, out=args.out, creators=args.creators, days=args.days, seed=args.seed
    )
    print(summary)
    return 0


def _run(args: argparse.Namespace) -> int:
    from ingest import runs

    settings = Settings.from_env(args.warehouse, args.data_path)
    platforms = tuple(args.platform) if args.platform else platform_names()
    if args.command == "run":
        summaries = [
            runs.run_day(
                args.date,
                settings,
                platforms=platforms,
                inbox=args.inbox,
                retry_rejected=args.retry_rejected,
            )
        ]
    else:
        summaries = runs.backfill(
            args.start,
            args.end,
            settings,
            platforms=platforms,
            inbox=args.inbox,
            retry_rejected=args.retry_rejected,
        )
    for summary in summaries:
        print(summary)
    return 0 if all(s.ok for s in summaries) else 1


def _validate(args: argparse.Namespace) -> int:
    from ingest import validation

    settings = Settings.from_env(args.warehouse, args.data_path)
    report = validation.revalidate(args.load_id, settings)
    print(report.to_json() if args.json else report)
    return 0 if report.passed else 1


def _pull(args: argparse.Namespace) -> int:
    from ingest import extract

    settings = Settings.from_env(args.warehouse, args.data_path)
    accounts = [a.strip() for a in args.accounts.split(",") if a.strip()] if args.accounts else None
    summary = extract.pull(
        args.platform,
        args.date,
        settings,
        accounts=accounts,
        creators=args.creators,
        base_url=args.base_url,
        load=not args.no_load,
    )
    print(summary)
    return 0 if summary.ok else 1


def _report(args: argparse.Namespace) -> int:
    from ingest import report

    settings = Settings.from_env(args.warehouse, args.data_path)
    path = report.write_report(settings, args.out)
    print(f"report written to {path}")
    return 0
