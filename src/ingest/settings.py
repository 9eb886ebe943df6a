"""Every ``INGEST_*`` variable, declared once, typed and validated (pydantic-settings).

The core declares its own variables in :class:`CoreSettings`. A platform declares its own in
its package: the variable of its token (``Platform.token_env``), the fields of its token
credentials class (``credentials`` of the token support ``Platform.tokens`` names: refresh
token, client id and secret) and the fields of its pull settings class
(``Platform.pull_options``); both classes are pydantic models whose fields name their variable
as ``validation_alias``. :func:`platform_settings_class` composes them into one settings class
per platform, so the core never names a platform and a fifth one brings its variables with it.

Variables are read when asked for, never at import: tests and tasks set them as they go. A
value that does not fit its declaration raises :class:`ingest.errors.ConfigError` naming the
variable, the value (never a secret's) and what is expected. Tokens and other secrets are
``SecretStr``: no repr or error shows them, and reading them registers them with
``ingest.redaction`` so no log does either.

This module imports pydantic, so the light modules (``ingest.config``, ``ingest.snapshots``)
import it inside the functions that read variables: parsing a DAG file stays cheap.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import ConfigError
from ingest.plugin import Platform, load_object
from ingest.redaction import register_secret

DEFAULT_WAREHOUSE = "warehouse/creators.duckdb"
# recent posts are snapshotted daily for this many days (covers the 28-day engagement window)
LOOKBACK_DAYS = 30

S = TypeVar("S", bound="BaseSettings")
M = TypeVar("M", bound=BaseModel)

# exact names, empty means unset (as `VAR= ingest ...` always did), nothing else read
_SOURCE = SettingsConfigDict(
    case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True
)


class CoreSettings(BaseSettings):
    """The core's variables: where things live, how long to wait, how hard to retry."""

    model_config = _SOURCE

    # why repr=False: a DuckLake conninfo may carry the catalog's password
    warehouse: str = Field(
        DEFAULT_WAREHOUSE,
        validation_alias="INGEST_WAREHOUSE",
        repr=False,
        description="the DuckDB file the pipeline writes, or `ducklake:postgres:<conninfo>`"
        " for a DuckLake warehouse (flag `--warehouse`; a password in it is always masked)",
    )
    lake_data_path: str | None = Field(
        None,
        validation_alias="INGEST_LAKE_DATA_PATH",
        description="DuckLake only: where the lake's Parquet files live (flag `--data-path`)",
        json_schema_extra={"default_text": "none (required with DuckLake)"},
    )
    landing: Path | None = Field(
        None,
        validation_alias="INGEST_LANDING",
        description="the landing zone (raw bytes and manifests)",
        json_schema_extra={"default_text": "`landing/` beside the warehouse folder"},
    )
    staging: Path | None = Field(
        None,
        validation_alias="INGEST_STAGING",
        description="where parsed batches wait for audit and publish",
        json_schema_extra={"default_text": "`staging/` beside the warehouse folder"},
    )
    inbox: Path | None = Field(
        None,
        validation_alias="INGEST_INBOX",
        description="where `ingest run` and the nightly DAG pick up dropped exports"
        " (`<inbox>/<platform>/<day>/`)",
        json_schema_extra={"default_text": "`inbox/` beside the landing zone"},
    )
    creators: Path | None = Field(
        None,
        validation_alias="INGEST_CREATORS",
        description="a creators mapping CSV whose accounts the nightly DAG pulls when the"
        " platform's Airflow connection names no accounts",
        json_schema_extra={"default_text": "none"},
    )
    busy_timeout: float = Field(
        30.0,
        ge=0,
        allow_inf_nan=False,
        validation_alias="INGEST_BUSY_TIMEOUT",
        description='seconds a writer waits for another one before failing with "warehouse busy"',
    )
    writer_memory_mib: int = Field(
        512,
        ge=64,
        validation_alias="INGEST_WRITER_MEMORY_MIB",
        description="MiB of memory DuckDB may hold while publishing loads into the warehouse"
        " file; past them it drops cached table blocks and spills to a folder beside the file"
        " (the marts rebuild is not bound by it)",
    )
    snapshot_grace_hours: float = Field(
        6.0,
        ge=0,
        le=24,
        allow_inf_nan=False,
        validation_alias="INGEST_SNAPSHOT_GRACE_HOURS",
        description="hours after a day ends during which a pull may still record that"
        " day's snapshots",
    )
    http_max_attempts: int = Field(
        5,
        ge=1,
        validation_alias="INGEST_HTTP_MAX_ATTEMPTS",
        description="tries per API request, the first included",
    )
    http_base_delay: float = Field(
        1.0,
        ge=0,
        allow_inf_nan=False,
        validation_alias="INGEST_HTTP_BASE_DELAY",
        description="seconds of backoff before an API request's second try (doubles each try)",
    )
    http_timeout: float = Field(
        60.0,
        gt=0,
        allow_inf_nan=False,
        validation_alias="INGEST_HTTP_TIMEOUT",
        description="seconds to wait for an API response",
    )
    pull_lookback_days: int = Field(
        LOOKBACK_DAYS,
        ge=1,
        validation_alias="INGEST_PULL_LOOKBACK_DAYS",
        description="how many days back a pull fetches recent posts",
    )
    token_warn_days: int = Field(
        7,
        ge=0,
        validation_alias="INGEST_TOKEN_WARN_DAYS",
        description="a pull warns when its platform's token (or refresh token) expires within"
        " this many days; `ingest status` flags it too",
    )


class PlatformSettings(BaseSettings):
    """One platform's variables: its token, its token credentials, its own pull settings.

    Subclasses are made by :func:`platform_settings_class`; their fields are ``token`` (a
    ``SecretStr``, named by ``Platform.token_env``), the fields of the platform's token
    credentials class and those of its pull settings class.
    """

    model_config = _SOURCE

    platform: ClassVar[str] = ""
    options_class: ClassVar[type[BaseModel] | None] = None
    credentials_class: ClassVar[type[BaseModel] | None] = None

    def secret_token(self) -> str | None:
        """The token's value, for the client that sends it; None when unset."""
        secret = getattr(self, "token", None)
        return secret.get_secret_value() if isinstance(secret, SecretStr) else None

    def options(self) -> BaseModel | None:
        """The platform's pull settings: its variables where set, its defaults elsewhere."""
        return self._part(self.options_class)

    def credentials(self) -> BaseModel | None:
        """The platform's token credentials: its variables where set, its defaults elsewhere."""
        return self._part(self.credentials_class)

    def value_of(self, variable: str) -> str | None:
        """The plain value of the field ``variable`` fills (a secret's too); None when unset."""
        for name, info in type(self).model_fields.items():
            if info.validation_alias == variable:
                value = getattr(self, name)
                if isinstance(value, SecretStr):
                    return value.get_secret_value()
                return None if value is None else str(value)
        return None

    def secret_values(self) -> list[str]:
        """The values of every secret field that is set, for masking."""
        found = []
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if is_secret(info) and isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
        return found

    def _part(self, kind: type[BaseModel] | None) -> BaseModel | None:
        if kind is None:
            return None
        given = {
            _variable(info): getattr(self, name)
            for name, info in kind.model_fields.items()
            if name in self.model_fields_set
        }
        return kind.model_validate(given)


def part_as(part: object | None, kind: type[M]) -> M:
    """A platform's settings part (pull settings, token credentials) as its own class ``kind``.

    ``kind()`` (its defaults) when ``part`` is None.

    Raises:
        TypeError: the part is of another class (another platform's).
    """
    if part is None:
        return kind()
    if not isinstance(part, kind):
        given = type(part)
        raise TypeError(
            f"{given.__module__}.{given.__qualname__} given,"
            f" not {kind.__module__}.{kind.__qualname__}"
        )
    return part


@dataclass(frozen=True)
class Variable:
    """One declared ``INGEST_*`` variable, for the docs and ``ingest config``.

    Args:
        env: the variable's name.
        field: the settings field it fills.
        kind: what it takes, in words (``a number from 0 to 24``).
        default: its default, in words.
        description: what it does.
        platform: the platform that declares it, or None for the core.
        secret: whether its value is never shown.
    """

    env: str
    field: str
    kind: str
    default: str
    description: str
    platform: str | None = None
    secret: bool = False


@dataclass(frozen=True)
class IngestSettings:
    """The one settings object: the core's variables and every platform's, all validated."""

    core: CoreSettings
    platforms: Mapping[str, PlatformSettings]


def read_core(**flags: object) -> CoreSettings:
    """The core's variables; ``flags`` (by variable name) take precedence over the environment.

    Raises:
        ConfigError: a variable's value does not fit its declaration.
    """
    given = {name: value for name, value in flags.items() if value is not None}
    return _validated(CoreSettings, given)


def read_platform(platform: Platform) -> PlatformSettings:
    """One platform's variables (token, token credentials, pull settings), validated.

    Every secret that is set is registered for masking before anyone can use it.

    Raises:
        ConfigError: a variable's value does not fit the platform's declaration.
    """
    settings = _validated(platform_settings_class(platform), {})
    for value in settings.secret_values():
        register_secret(value)
    return settings


def read_settings(platforms: Iterable[Platform], **flags: object) -> IngestSettings:
    """Every variable of the core and of ``platforms``; every bad value named in one error."""
    problems: list[str] = []
    core: CoreSettings | None = None
    found: dict[str, PlatformSettings] = {}
    try:
        core = read_core(**flags)
    except ConfigError as error:
        problems.append(str(error))
    for platform in platforms:
        try:
            found[platform.name] = read_platform(platform)
        except ConfigError as error:
            problems.append(str(error))
    if problems or core is None:
        raise ConfigError("; ".join(problems))
    return IngestSettings(core=core, platforms=found)


@cache
def platform_settings_class(platform: Platform) -> type[PlatformSettings]:
    """The settings class of one platform, composed from what its package declares.

    Raises:
        ConfigError: a declared class is not a pydantic model, a field does not name its
            variable, two fields share a name, or the token support's ``refresh_env`` is not
            one of its credentials' variables.
    """
    fields: dict[str, Any] = {}
    if platform.token_env:
        fields["token"] = (
            SecretStr | None,
            Field(
                None,
                validation_alias=platform.token_env,
                description=f"the {platform.title} API token or key `ingest pull` uses (the"
                f" nightly DAG reads the Airflow connection `{platform.connection_id}` instead)",
                json_schema_extra={"default_text": "none (no API pull)"},
            ),
        )
    credentials, refresh_env = _token_credentials(platform)
    options = _model(platform.pull_options, f"pull_options of platform {platform.name!r}")
    for kind, where in ((credentials, platform.tokens), (options, platform.pull_options)):
        for name, info in kind.model_fields.items() if kind is not None else ():
            if name in fields:
                raise ConfigError(f"{where}: a field may not be named {name!r}")
            _variable(info, owner=str(where))
            fields[name] = (info.annotation, copy(info))
    declared = {_variable(info) for _, info in fields.values()}
    if refresh_env is not None and refresh_env not in declared:
        raise ConfigError(
            f"{platform.tokens}: refresh_env {refresh_env} is not a variable of its credentials"
        )
    model = create_model(
        f"{platform.name.title()}Settings",
        __base__=PlatformSettings,
        __module__=__name__,
        **fields,
    )
    model.platform = platform.name
    model.options_class = options
    model.credentials_class = credentials
    return model


def _token_credentials(platform: Platform) -> tuple[type[BaseModel] | None, str | None]:
    """The token support's credentials class and refresh variable (None, None without)."""
    if platform.tokens is None:
        return None, None
    support = load_object(platform.tokens)
    where = f"credentials of {platform.tokens} (tokens of platform {platform.name!r})"
    reference = getattr(support, "credentials", None)
    kind = _model(reference, where) if reference is not None else None
    refresh_env = getattr(support, "refresh_env", None)
    return kind, refresh_env if isinstance(refresh_env, str) else None


def _model(reference: str | type | None, where: str) -> type[BaseModel] | None:
    """The pydantic model ``reference`` is or names ("module:Class"); None for None."""
    if reference is None:
        return None
    kind = load_object(reference) if isinstance(reference, str) else reference
    if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
        raise ConfigError(f"{reference} ({where}) is not a pydantic model")
    return kind


def variables(platforms: Sequence[Platform]) -> list[Variable]:
    """Every declared variable: the core's, then each platform's in registry order.

    Raises:
        ConfigError: two declarations name the same variable.
    """
    declared = [_described(CoreSettings, name, None) for name in CoreSettings.model_fields]
    for platform in platforms:
        model = platform_settings_class(platform)
        declared += [_described(model, name, platform.name) for name in model.model_fields]
    seen: dict[str, str] = {}
    for variable in declared:
        owner = variable.platform or "the core"
        if variable.env in seen:
            raise ConfigError(f"{variable.env} is declared by {seen[variable.env]} and {owner}")
        seen[variable.env] = owner
    return declared


def expects(info: FieldInfo) -> str:
    """What a field takes, in words: its type and bounds (``a number from 0 to 24``)."""
    kinds = [_kind(arg) for arg in _without_none(info.annotation)]
    text = " or ".join(dict.fromkeys(kinds))
    low = high = ""
    for bound in info.metadata:
        if getattr(bound, "pattern", None) is not None:
            text += f" matching `{bound.pattern}`"
        # pydantic keeps Field(ge=..., gt=...) as annotated-types bounds with these attributes
        if getattr(bound, "ge", None) is not None:
            low = f"{bound.ge}"
        elif getattr(bound, "gt", None) is not None:
            low = f"more than {bound.gt}"
        elif getattr(bound, "le", None) is not None:
            high = f"{bound.le}"
        elif getattr(bound, "lt", None) is not None:
            high = f"less than {bound.lt}"
    if low and high and not low.startswith("more"):
        return f"{text} from {low} to {high}"
    if low:
        return f"{text} of at least {low}" if not low.startswith("more") else f"{text} {low}"
    if high:
        return f"{text} of at most {high}"
    return text


def is_secret(info: FieldInfo) -> bool:
    """Whether a field holds a secret (its value is never shown)."""
    return SecretStr in _without_none(info.annotation)


def _variable(info: FieldInfo, owner: str = "") -> str:
    """The variable a field is read from (its ``validation_alias``)."""
    alias = info.validation_alias
    if not isinstance(alias, str) or not alias:
        raise ConfigError(f"{owner}: every field must name its variable as validation_alias")
    return alias


def _described(model: type[BaseSettings], name: str, platform: str | None) -> Variable:
    info = model.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    default = extra.get("default_text")
    if not isinstance(default, str):
        default = "none" if info.default is None else f"`{info.default}`"
    return Variable(
        env=_variable(info, owner=model.__name__),
        field=name,
        kind=expects(info),
        default=default,
        description=info.description or "",
        platform=platform,
        secret=is_secret(info),
    )


def _without_none(annotation: Any) -> list[Any]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return [annotation]


def _kind(annotation: Any) -> str:
    if typing.get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in typing.get_args(annotation))
    return {
        int: "a whole number",
        float: "a number",
        str: "text",
        Path: "a path",
        SecretStr: "a secret",
        bool: "true or false",
    }.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _validated(model: type[S], given: Mapping[str, Any]) -> S:
    try:
        return model(**given)
    except ValidationError as error:
        # why from None: the pydantic error holds the raw input, a secret's included
        raise ConfigError(_refusal(model, error)) from None


def _refusal(model: type[BaseSettings], error: ValidationError) -> str:
    by_variable = {_variable(info, model.__name__): info for info in model.model_fields.values()}
    problems = []
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]) if item["loc"] else model.__name__
        info = by_variable.get(name)
        if info is None:
            problems.append(f"{name}: {item['msg']}")
            continue
        shown = "(a secret, not shown)" if is_secret(info) else repr(item.get("input"))
        problems.append(f"{name}={shown} is not valid: expected {expects(info)}")
    return "; ".join(problems)
