"""The pipeline's commands: load, demo, run, backfill, pull, report, validate, export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from ingest.cli.app import (
    EXAMPLE_PLATFORM,
    PULL_PLATFORM,
    PULL_TOKEN,
    DataPath,
    Inbox,
    Json,
    OnePlatform,
    Platforms,
    Reprocess,
    RetryRejected,
    Warehouse,
    app,
    examples,
    known_platform,
    parse_day,
    platform_metavar,
)
from ingest.cli.output import OK, REFUSED, Plain, Refused, Session, UsageProblem, execute
from ingest.config import Settings
from ingest.platforms import names as platform_names
from ingest.platforms import platforms


def _token_variables() -> str:
    named = [f"{p.token_env} ({n})" for n, p in platforms().items() if p.token_env]
    return ", ".join(named) or "none installed"


@app.command(
    "load",
    short_help="Land, parse, audit and publish export files.",
    epilog=examples(
        "ingest load exports/ --date 2026-09-01",
        f"ingest load studio-export.zip --platform {EXAMPLE_PLATFORM} --account ACCOUNT_ID",
        "ingest load creators.csv --json",
    ),
)
def load_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Export files or folders; a creators mapping CSV loads first."),
    ],
    platform: OnePlatform = None,
    account: Annotated[
        str | None,
        typer.Option(help="The account for files that do not name it.", show_default="none"),
    ] = None,
    day: Annotated[
        date | None,
        typer.Option(
            "--date",
            parser=parse_day,
            metavar="YYYY-MM-DD",
            help="The day snapshot files describe.",
            show_default="today, UTC",
        ),
    ] = None,
    reprocess: Reprocess = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Land, parse, audit and publish export files: each file is one load, whole or nothing."""

    def work(session: Session) -> int:
        from ingest.creators import load_mappings, split_mappings
        from ingest.pipeline import OK_STATUSES, load_files

        settings = session.settings()
        # a creators mapping loads first, so accounts loaded with it roll up under their creators
        mappings, files = split_mappings(paths)
        if not mappings and not files:
            shown = ", ".join(str(p) for p in paths)
            raise Refused(f"no files to load in {shown} (hidden files are skipped)")
        results = load_mappings(mappings, settings)
        results += load_files(
            files, settings, platform=platform, account=account, day=day, reprocess=reprocess
        )
        for result in results:
            text = ""
            if result.status == "published":
                text = (
                    f"{result.source}: {result.platform}/{result.format}: read"
                    f" {result.rows_read}, loaded {result.rows_loaded}, quarantined"
                    f" {result.rows_quarantined} (load {result.load_id})"
                )
            elif result.status in OK_STATUSES:
                text = f"{result.source}: {result.status}: {result.message}"
            session.show(result, text)
            if result.status not in OK_STATUSES:
                session.output.error(str(result.message))
        return OK if all(r.status in OK_STATUSES for r in results) else REFUSED

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "demo",
    short_help="Generate sample exports and run the whole pipeline on them.",
    epilog=examples("ingest demo", "ingest demo --creators 20 --days 14 --seed 1"),
)
def demo_command(
    ctx: typer.Context,
    creators: Annotated[int, typer.Option(help="How many creators to simulate.", min=1)] = 60,
    days: Annotated[int, typer.Option(help="How many days of history, to yesterday.", min=1)] = 35,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same data.")] = 7,
    out: Annotated[
        Path, typer.Option(help="Where the sample exports are written (replaced).")
    ] = Path("demo-data"),
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Generate sample exports for every platform and run the whole pipeline on them."""

    def work(session: Session) -> int:
        from ingest.demo import run_demo

        settings = session.settings()
        summary = run_demo(settings, out=out, creators=creators, days=days, seed=seed)
        data = {
            "out": str(out),
            "warehouse": settings.describe(),
            "bi_copy": None if settings.lake else str(settings.bi_warehouse),
            "loads": _published_loads(settings),
        }
        session.show(Plain(data, summary))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


def _published_loads(settings: Settings) -> dict[str, dict[str, int]]:
    """Published loads per platform, as BI sees them (``ingest demo --json``)."""
    from ingest.sqlfiles import run_sql
    from ingest.warehouse import open_bi

    conn = open_bi(settings)
    try:
        rows = run_sql(conn, "cli/published_loads").fetchall()
    finally:
        conn.close()
    fields = ("files", "rows_read", "rows_loaded", "rows_quarantined")
    return {
        platform: dict(zip(fields, map(int, counts), strict=True)) for platform, *counts in rows
    }


RunDate = Annotated[
    date,
    typer.Option("--date", parser=parse_day, metavar="YYYY-MM-DD", help="The day to run (UTC)."),
]


@app.command(
    "run",
    short_help="Run one day as the nightly DAG does.",
    epilog=examples(
        "ingest run --date 2026-09-01",
        f"ingest run --date 2026-09-01 --platform {EXAMPLE_PLATFORM} --inbox exports/ --json",
    ),
)
def run_command(
    ctx: typer.Context,
    day: RunDate,
    platform: Platforms = None,
    inbox: Inbox = None,
    retry_rejected: RetryRejected = False,
    reprocess: Reprocess = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """What the nightly DAG does for one day: pick up the inbox, replay landing, publish."""
    return execute(
        ctx,
        lambda session: _run_days(session, [day], platform, inbox, retry_rejected, reprocess),
        json_lines=as_json,
        warehouse=warehouse,
        data_path=data_path,
    )


@app.command(
    "backfill",
    short_help="Run a range of days again from the landing zone.",
    epilog=examples(
        "ingest backfill --start 2026-09-01 --end 2026-09-07",
        "ingest backfill --start 2026-09-01 --end 2026-09-07 --platform"
        f" {EXAMPLE_PLATFORM} --retry-rejected",
    ),
)
def backfill_command(
    ctx: typer.Context,
    start: Annotated[
        date,
        typer.Option(parser=parse_day, metavar="YYYY-MM-DD", help="The first day (UTC), included."),
    ],
    end: Annotated[
        date,
        typer.Option(parser=parse_day, metavar="YYYY-MM-DD", help="The last day (UTC), included."),
    ],
    platform: Platforms = None,
    inbox: Inbox = None,
    retry_rejected: RetryRejected = False,
    reprocess: Reprocess = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Run every day of a range again from the landing zone, one day after the other."""

    def work(session: Session) -> int:
        if end < start:
            raise UsageProblem(f"--end {end} is before --start {start}")
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        return _run_days(session, days, platform, inbox, retry_rejected, reprocess)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


def _run_days(
    session: Session,
    days: Sequence[date],
    platforms: Sequence[str] | None,
    inbox: Path | None,
    retry_rejected: bool,
    reprocess: bool,
) -> int:
    from ingest import runs

    settings = session.settings()
    chosen = tuple(platforms) if platforms else platform_names()
    ok = True
    # one day after the other, as runs.backfill does, so each day's result shows when it ends
    for day in days:
        summary = runs.run_day(
            day,
            settings,
            platforms=chosen,
            inbox=inbox,
            retry_rejected=retry_rejected,
            reprocess=reprocess,
        )
        session.show(Plain({**summary.to_dict(), "ok": summary.ok}, str(summary)))
        ok = ok and summary.ok
    return OK if ok else REFUSED


@app.command(
    "pull",
    short_help="Pull one day of a platform's API and load it.",
    help="Pull one day of a platform's API for the tracked accounts, land every page, load"
    " it; an interrupted pull resumes where it stopped. The token comes from the platform's"
    f" environment variable: {_token_variables()}.",
    epilog=examples(
        f"{PULL_TOKEN}=... ingest pull --platform {PULL_PLATFORM} --date 2026-09-01"
        " --accounts ID1,ID2",
        f"ingest pull --platform {PULL_PLATFORM} --date 2026-09-01 --creators creators.csv --json",
    ),
)
def pull_command(
    ctx: typer.Context,
    platform: Annotated[
        str,
        typer.Option(
            help="The platform whose API to pull.",
            callback=known_platform,
            metavar=platform_metavar(),
        ),
    ],
    day: Annotated[
        date,
        typer.Option(
            "--date", parser=parse_day, metavar="YYYY-MM-DD", help="The day to pull (landing day)."
        ),
    ],
    accounts: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated account ids or handles.", show_default="none: use --creators"
        ),
    ] = None,
    creators: Annotated[
        Path | None,
        typer.Option(
            help="A creators mapping CSV: its accounts on the platform.", show_default="none"
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Replace the platform's API host (tests, proxies).",
            show_default="the platform's own",
        ),
    ] = None,
    no_load: Annotated[
        bool, typer.Option("--no-load", help="Land the pages only; do not publish.")
    ] = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Pull one day of a platform's API for the tracked accounts, land every page, load it.

    An interrupted pull resumes where it stopped.
    """

    def work(session: Session) -> int:
        from ingest import extract

        if accounts is not None and creators is not None:
            raise UsageProblem("use --accounts or --creators, not both")
        names = [a.strip() for a in accounts.split(",") if a.strip()] if accounts else None
        summary = extract.pull(
            platform,
            day,
            session.settings(),
            accounts=names,
            creators=creators,
            base_url=base_url,
            load=not no_load,
        )
        session.show(summary)
        return OK if summary.ok else REFUSED

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "report",
    short_help="Write an HTML report with charts.",
    epilog=examples("ingest report", "ingest report --out site/creators.html"),
)
def report_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Write one self-contained HTML page of charts from the BI copy."""

    def work(session: Session) -> int:
        from ingest import report as reporting

        path = reporting.write_report(session.settings(), out)
        session.show(Plain({"path": str(path)}, f"report written to {path}"))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "validate",
    short_help="Audit a load again and print the results.",
    epilog=examples(
        "ingest validate 20260901T001500123456-3f2a9c1b0d-a1b2c3",
        "ingest validate 20260901T001500123456-3f2a9c1b0d-a1b2c3 --json",
    ),
)
def validate_command(
    ctx: typer.Context,
    load_id: Annotated[str, typer.Argument(help="The load to audit again (meta.loads.load_id).")],
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Run the audit of a load again and print every expectation's result; 1 if it fails."""

    def work(session: Session) -> int:
        from ingest import validation

        audit = validation.revalidate(load_id, session.settings())
        session.show(audit)
        return OK if audit.passed else REFUSED

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


def _known_format(value: str) -> str:
    from ingest.export import FORMATS

    if value not in FORMATS:
        raise typer.BadParameter(f"{value!r}: expected one of {', '.join(FORMATS)}")
    return value


@app.command(
    "export",
    short_help="Write the marts to Parquet or CSV files.",
    epilog=examples(
        "ingest export --out exports/",
        "ingest export --out exports/ --mart creator_daily --mart creator_tier_daily --format csv",
    ),
)
def export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="The folder to write the files to.")],
    mart: Annotated[
        list[str] | None,
        typer.Option(
            help="A mart of the marts schema (creator_daily, ...); repeatable.",
            show_default="every mart",
        ),
    ] = None,
    file_format: Annotated[
        str,
        typer.Option(
            "--format", help="parquet or csv.", metavar="[parquet|csv]", callback=_known_format
        ),
    ] = "parquet",
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Write the marts BI reads to one Parquet or CSV file each, as <out>/<mart>.<format>."""

    def work(session: Session) -> int:
        from ingest.export import UnknownMartError, export_marts

        try:
            written = export_marts(session.settings(), out, marts=mart or (), format=file_format)
        except UnknownMartError as exc:
            raise UsageProblem(str(exc)) from None
        for exported in written:
            session.show(exported)
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)
