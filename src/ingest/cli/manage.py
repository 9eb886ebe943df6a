"""The commands that look after an installation: status, config, accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ingest.cli.app import (
    PULL_PLATFORM,
    DataPath,
    Json,
    Warehouse,
    app,
    examples,
    known_platform,
    platform_metavar,
)
from ingest.cli.output import OK, REFUSED, Session, execute


@app.command(
    "status",
    short_help="What the pipeline did lately and what needs a person.",
    epilog=examples("ingest status", "ingest status --limit 3 --json"),
)
def status_command(
    ctx: typer.Context,
    limit: Annotated[
        int,
        typer.Option(
            min=1,
            help="How many of the latest loads, rejected files, blocked loads and failed tasks"
            " to list (the counts cover everything).",
        ),
    ] = 10,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Show the latest loads, per platform the last day published, rejected files, quarantine,
    audit failures, tracked accounts, token expiry and API quota; never writes."""

    def work(session: Session) -> int:
        from ingest.status import status

        session.show(status(session.settings(), limit=limit))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "config",
    short_help="Show the effective settings, secrets masked.",
    epilog=examples("ingest config", "INGEST_BUSY_TIMEOUT=120 ingest config --json"),
)
def config_command(
    ctx: typer.Context,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Show every INGEST_* setting's effective value and where it came from (flag, environment
    or default); tokens and passwords are masked. A bad value is named (exit 2)."""

    def work(session: Session) -> int:
        from ingest.config import describe_config

        path = None if data_path is None else str(data_path)
        session.show(describe_config(warehouse, path))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


accounts_app = typer.Typer(
    name="accounts",
    help="The accounts the API pulls ask for, kept in the warehouse (see README).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(accounts_app, name="accounts")

PullPlatform = Annotated[
    str,
    typer.Argument(
        help="The platform whose pull asks for the accounts.",
        callback=known_platform,
        metavar=platform_metavar(),
    ),
]
AccountValues = Annotated[
    list[str],
    typer.Argument(
        help="Account ids or handles, as `ingest pull --accounts` reads them.", metavar="ACCOUNT..."
    ),
]


def _changed(change: Any, session: Session) -> int:
    session.show(change)
    return OK if change.ok else REFUSED


@accounts_app.command(
    "add",
    short_help="Track accounts: the pulls ask for them from now on.",
    epilog=examples(
        f"ingest accounts add {PULL_PLATFORM} ACCOUNT_ID @handle --creator c42",
        f"ingest accounts add {PULL_PLATFORM} ACCOUNT_ID --json",
    ),
)
def accounts_add_command(
    ctx: typer.Context,
    platform: PullPlatform,
    account: AccountValues,
    creator: Annotated[
        str | None,
        typer.Option(help="The creator the accounts belong to (a label).", show_default="none"),
    ] = None,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Track accounts of a platform; an account its pull would refuse is refused (exit 1),
    naming it, and the others are still added. Adding one twice changes nothing."""

    def work(session: Session) -> int:
        from ingest import accounts

        return _changed(accounts.add(session.settings(), platform, account, creator), session)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@accounts_app.command(
    "remove",
    short_help="Stop tracking accounts.",
    epilog=examples(f"ingest accounts remove {PULL_PLATFORM} ACCOUNT_ID"),
)
def accounts_remove_command(
    ctx: typer.Context,
    platform: PullPlatform,
    account: AccountValues,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Stop tracking accounts of a platform; one that is not tracked is reported, not an error."""

    def work(session: Session) -> int:
        from ingest import accounts

        return _changed(accounts.remove(session.settings(), platform, account), session)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@accounts_app.command(
    "list",
    short_help="List the tracked accounts.",
    epilog=examples("ingest accounts list", f"ingest accounts list --platform {PULL_PLATFORM}"),
)
def accounts_list_command(
    ctx: typer.Context,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            help="Only this platform's accounts.",
            show_default="every platform",
            callback=known_platform,
            metavar=platform_metavar(),
        ),
    ] = None,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """List the tracked accounts, of every platform or of one; never writes."""

    def work(session: Session) -> int:
        from ingest import accounts

        session.show(accounts.list_accounts(session.settings(), platform))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@accounts_app.command(
    "import",
    short_help="Track every account of a creators mapping CSV.",
    epilog=examples("ingest accounts import creators.csv"),
)
def accounts_import_command(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="A creators mapping: creator_id, platform, account_id, handle.")
    ],
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Track every account of a creators mapping, never replacing one; an unusable line is
    refused naming the file, line and field (exit 1), and the other lines are added."""

    def work(session: Session) -> int:
        from ingest import accounts

        return _changed(accounts.import_csv(session.settings(), path), session)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)
