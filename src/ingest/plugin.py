"""What a platform package declares about itself, in one place.

The core never names a platform: it asks the registry (``ingest.platforms``) for the
``Platform`` objects that installed packages publish under the ``creator_metrics.platforms``
entry point group. The four built-in platforms are published by this project's own
``pyproject.toml`` the same way a third-party package would publish a fifth.

Loading a ``Platform`` must stay cheap (DAG files list the platforms when they are parsed):
heavy parts are named as ``"module:attribute"`` strings and imported only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ENTRY_POINT_GROUP = "creator_metrics.platforms"


def by_handle(value: str) -> tuple[str | None, str | None]:
    """An ``--accounts`` value read as a username (``@`` dropped): ``(None, handle)``."""
    return None, value.lstrip("@")


def by_id(value: str) -> tuple[str | None, str | None]:
    """An ``--accounts`` value read as the platform's account id: ``(id, None)``."""
    return value, None


def load_object(reference: str) -> Any:
    """The object a ``"package.module:attribute"`` reference names."""
    module, _, attribute = reference.partition(":")
    target: Any = importlib.import_module(module)
    for part in filter(None, attribute.split(".")):
        target = getattr(target, part)
    return target


@dataclass(frozen=True)
class Platform:
    """Everything the core needs to know about one platform.

    Args:
        name: the platform's name in data, paths and commands (lower case, ``[a-z0-9_]``).
        title: its name as people write it, for messages and the Airflow hook list.
        formats: ``"module:attribute"`` naming its file formats (a sequence of
            ``ingest.parsing.Format``) in detection order; imported when files are read.
        order: where it sorts among platforms (lists, DAG task maps); ties sort by name.
        token_env: the environment variable holding its API token or key outside Airflow.
        connection_id: the Airflow connection its hook reads by default (the Airflow plugin
            builds one hook per platform from it and ``title``).
        api_host: the base URL of its API (``ingest.client.ApiClient`` uses it by default).
        read_account: how an ``--accounts`` value is read: ``(account_id, handle)``.
        check_account: ``"module:function"`` refusing an account its pull cannot ask for (a
            handle or id its API's rule does not match, a missing id or handle): a function
            ``(account: ingest.pull_state.Account) -> None`` raising
            ``ingest.client.InvalidAccountError``; None accepts what ``read_account`` gives.
        quota: ``"module:function"`` reading the API quota its pulls spent, for ``ingest
            status``: a function ``(landing: Path, now: datetime) ->
            ingest.pull_state.QuotaUse | None`` (None: nothing spent or recorded yet); None
            for a platform without a quota the pulls keep.
        pull: ``"module:function"`` running one day's API pull, or None without an API: a
            function ``(run: ingest.extract.PullRun, accounts: Sequence[Account]) -> None``.
        pull_options: ``"module:Class"`` of its own pull settings, or None without any: a
            pydantic model whose no-argument instance holds the defaults and whose fields
            each name their ``INGEST_*`` variable as ``validation_alias`` (``ingest.settings``
            reads and validates them with the core's); a pull finds it as
            ``run.options.platform_options``.
        demo: ``"module:object"`` writing its part of the demo data, or None.
        lineage: ``"package:resource"`` naming the TOML file that documents where each of
            its metrics comes from (``ingest.lineage`` gathers them), or None.
        tokens: ``"module:object"`` naming what the platform knows about its token's
            lifetime (an ``ingest.tokens.TokenSupport``: how to read its expiry, how to
            refresh it, and the pydantic model of the variables that takes, which
            ``ingest.settings`` composes like ``pull_options``), or None when it knows
            nothing; ``ingest.tokens`` uses it at the start of every pull.
        renew_hint: how to get a new token for this platform, in words, for the message
            that reports an expired or rejected token (and for ``ingest status``).
    """

    name: str
    title: str
    formats: str
    order: int = 100
    token_env: str | None = None
    connection_id: str | None = None
    api_host: str | None = None
    read_account: Callable[[str], tuple[str | None, str | None]] = by_handle
    check_account: str | None = None
    quota: str | None = None
    pull: str | None = None
    pull_options: str | None = None
    demo: str | None = None
    lineage: str | None = None
    tokens: str | None = None
    renew_hint: str | None = None
