"""Canonical model: the core entities, their columns, keys and load semantics."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

# bookkeeping columns every staged and core row carries
LOAD_COLUMNS: tuple[str, ...] = ("load_id", "observed_at")


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Args:
        name: column name in core and staging.
        sql_type: DuckDB type.
        required: a row without it is quarantined.
        non_negative: a negative value is quarantined (counts).
    """

    name: str
    sql_type: str
    required: bool = False
    non_negative: bool = False


@dataclass(frozen=True)
class Entity:
    """A canonical table and how rows are written to it.

    Args:
        name: short name used by parsers (``account_daily``).
        columns: canonical columns, keys first.
        primary_key: the columns that identify a row.
        write_mode: ``merge``: a later observation of a key replaces the values it provides.
        partition: the day column marts rebuild by, if any.
        history: replaced values are kept in ``core.<name>_history``.
    """

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    write_mode: str = "merge"
    partition: str | None = None
    history: bool = False

    @property
    def table(self) -> str:
        return f"core.{self.name}"

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        # asked per staged file and per statement built: thousands of times in a run of pages
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


def _count(name: str) -> Column:
    return Column(name, "BIGINT", non_negative=True)


def _flow(name: str) -> Column:
    # daily flows may be negative: platforms post moderation corrections
    return Column(name, "BIGINT")


ACCOUNTS = Entity(
    name="accounts",
    columns=(
        Column("platform", "VARCHAR", required=True),
        Column("account_id", "VARCHAR", required=True),
        Column("handle", "VARCHAR"),
        Column("display_name", "VARCHAR"),
        Column("created_at", "TIMESTAMPTZ"),
    ),
    primary_key=("platform", "account_id"),
)

ACCOUNT_DAILY = Entity(
    name="account_daily",
    columns=(
        Column("platform", "VARCHAR", required=True),
        Column("account_id", "VARCHAR", required=True),
        Column("day", "DATE", required=True),
        _count("followers"),
        _count("following"),
        _count("posts_count"),
        _count("total_views"),
        _count("total_likes"),
        Column("followers_hidden", "BOOLEAN"),
        Column("followers_rounded", "BOOLEAN"),
        Column("day_timezone", "VARCHAR"),
        _flow("daily_views"),
        _flow("daily_likes"),
        _flow("daily_comments"),
        _flow("daily_shares"),
        _flow("followers_gained"),
        _flow("followers_lost"),
    ),
    primary_key=("platform", "account_id", "day"),
    partition="day",
    history=True,
)

POSTS = Entity(
    name="posts",
    columns=(
        Column("platform", "VARCHAR", required=True),
        Column("post_id", "VARCHAR", required=True),
        Column("account_id", "VARCHAR", required=True),
        Column("published_at", "TIMESTAMPTZ"),
        Column("caption", "VARCHAR"),
        Column("media_type", "VARCHAR"),
        Column("permalink", "VARCHAR"),
        Column("duration_seconds", "INTEGER", non_negative=True),
    ),
    primary_key=("platform", "post_id"),
)

POST_DAILY = Entity(
    name="post_daily",
    columns=(
        Column("platform", "VARCHAR", required=True),
        Column("post_id", "VARCHAR", required=True),
        Column("account_id", "VARCHAR", required=True),
        Column("day", "DATE", required=True),
        Column("published_at", "TIMESTAMPTZ"),
        _count("views"),
        _count("likes"),
        _count("comments"),
        _count("shares"),
        _count("saves"),
        _count("reach"),
        Column("likes_hidden", "BOOLEAN"),
    ),
    primary_key=("platform", "post_id", "day"),
    partition="day",
    history=True,
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (ACCOUNTS, ACCOUNT_DAILY, POSTS, POST_DAILY)}
