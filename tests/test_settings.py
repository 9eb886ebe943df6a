"""The one settings object: every ``INGEST_*`` variable declared once, validated, documented."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ingest import pipeline
from ingest.config import ConfigError, Settings, describe_config
from ingest.errors import IngestError
from ingest.extract import PullOptions
from ingest.platforms import get, platforms
from ingest.platforms.instagram.api import Credentials as InstagramCredentials
from ingest.platforms.snapchat.api import Credentials as SnapchatCredentials
from ingest.platforms.tiktok.api import Credentials as TikTokCredentials
from ingest.redaction import redact
from ingest.settings import (
    platform_settings_class,
    read_core,
    read_platform,
    read_settings,
    variables,
)
from ingest.snapshots import grace_from_env
from ingest.warehouse import writer
from tests.conftest import FIXTURES

REPO = Path(__file__).resolve().parents[1]
CONNINFO = "host=db.internal dbname=lake user=etl password=hunter2-catalog"


def declared_names() -> list[str]:
    return [v.env for v in variables(list(platforms().values()))]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in declared_names():
        monkeypatch.delenv(name, raising=False)


class KeyOptions(BaseModel):
    """A fifth platform's own settings, as a third-party package would declare them."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    instance_key: SecretStr | None = Field(
        None, min_length=20, validation_alias="INGEST_FIFTH_KEY", description="a long key"
    )
    page_size: int = Field(40, ge=1, le=80, validation_alias="INGEST_FIFTH_PAGE_SIZE")


class FifthCredentials(BaseModel):
    """What a fifth platform's token support needs, declared the way the built-in ones do."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    refresh_token: SecretStr | None = Field(
        None, validation_alias="INGEST_FIFTH_REFRESH_TOKEN", description="renews the token"
    )
    client_id: str | None = Field(None, validation_alias="INGEST_FIFTH_CLIENT_ID")


class FifthTokens:
    credentials = FifthCredentials
    refresh_env = "INGEST_FIFTH_REFRESH_TOKEN"


class UndeclaredRefresh(FifthTokens):
    refresh_env = "INGEST_FIFTH_SOMEWHERE_ELSE"


class NotAModel(FifthTokens):
    credentials = dict  # type: ignore[assignment]


FIFTH_TOKENS = FifthTokens()
UNDECLARED_REFRESH = UndeclaredRefresh()
NOT_A_MODEL = NotAModel()


def fifth_platform():
    return replace(
        get("snapchat"),
        name="fifth",
        title="Fifth",
        token_env="INGEST_FIFTH_TOKEN",
        pull_options=f"{__name__}:KeyOptions",
        tokens=None,
    )


# ---- bad values are refused, naming the variable, the value and what is expected

BAD_VALUES = [
    ("INGEST_BUSY_TIMEOUT", "abc", "a number of at least 0"),
    ("INGEST_BUSY_TIMEOUT", "nan", "a number of at least 0"),
    ("INGEST_BUSY_TIMEOUT", "-5", "a number of at least 0"),
    ("INGEST_WRITER_MEMORY_MIB", "32", "a whole number of at least 64"),
    ("INGEST_WRITER_MEMORY_MIB", "1GB", "a whole number of at least 64"),
    ("INGEST_HTTP_MAX_ATTEMPTS", "0", "a whole number of at least 1"),
    ("INGEST_HTTP_MAX_ATTEMPTS", "2.5", "a whole number of at least 1"),
    ("INGEST_HTTP_BASE_DELAY", "soon", "a number of at least 0"),
    ("INGEST_HTTP_TIMEOUT", "0", "a number more than 0"),
    ("INGEST_PULL_LOOKBACK_DAYS", "a month", "a whole number of at least 1"),
    ("INGEST_SNAPSHOT_GRACE_HOURS", "-1", "a number from 0 to 24"),
    ("INGEST_SNAPSHOT_GRACE_HOURS", "25", "a number from 0 to 24"),
    ("INGEST_TOKEN_WARN_DAYS", "-1", "a whole number of at least 0"),
    ("INGEST_TOKEN_WARN_DAYS", "a week", "a whole number of at least 0"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD_VALUES)
def test_a_bad_core_value_is_refused_naming_the_variable(name, value, expected, monkeypatch):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        Settings.from_env()
    assert isinstance(refused.value, IngestError)  # the CLI shows it as refused input
    assert str(refused.value) == f"{name}={value!r} is not valid: expected {expected}"
    # a pull refuses it the same way
    with pytest.raises(ConfigError, match=re.escape(f"{name}={value!r}")):
        PullOptions.from_env("snapchat")
    if name == "INGEST_SNAPSHOT_GRACE_HOURS":
        with pytest.raises(ConfigError, match=name):
            grace_from_env()


PLATFORM_BAD_VALUES = [
    ("youtube", "INGEST_YOUTUBE_QUOTA_UNITS", "lots", "a whole number of at least 1"),
    ("youtube", "INGEST_YOUTUBE_QUOTA_UNITS", "0", "a whole number of at least 1"),
    ("tiktok", "INGEST_TIKTOK_API", "graph", "one of `research`, `display`"),
    ("instagram", "INGEST_INSTAGRAM_USER_ID", "me", "text matching `^[0-9]+$`"),
    ("instagram", "INGEST_INSTAGRAM_APP_ID", "my-app", "text matching `^[0-9]+$`"),
]


@pytest.mark.parametrize(("platform", "name", "value", "expected"), PLATFORM_BAD_VALUES)
def test_a_bad_platform_value_is_refused_by_its_pull_naming_the_variable(
    platform, name, value, expected, monkeypatch
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        PullOptions.from_env(platform)
    assert str(refused.value) == f"{name}={value!r} is not valid: expected {expected}"


def test_every_bad_value_is_named_at_once(monkeypatch):
    monkeypatch.setenv("INGEST_BUSY_TIMEOUT", "abc")
    monkeypatch.setenv("INGEST_HTTP_MAX_ATTEMPTS", "0")
    monkeypatch.setenv("INGEST_YOUTUBE_QUOTA_UNITS", "lots")
    with pytest.raises(ConfigError) as refused:
        read_settings(list(platforms().values()))
    for name in ("INGEST_BUSY_TIMEOUT", "INGEST_HTTP_MAX_ATTEMPTS", "INGEST_YOUTUBE_QUOTA_UNITS"):
        assert name in str(refused.value)


def test_a_secrets_bad_value_is_named_but_never_shown(monkeypatch):
    monkeypatch.setenv("INGEST_FIFTH_KEY", "short-secret-xyz")
    with pytest.raises(ConfigError) as refused:
        read_platform(fifth_platform())
    text = str(refused.value)
    assert "INGEST_FIFTH_KEY" in text and "not shown" in text
    assert "short-secret-xyz" not in text
    # nor anywhere down the chain a traceback would print
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


# ---- what is read, and when


@pytest.mark.parametrize(("value", "limit"), [(None, "512.0 MiB"), ("100", "100.0 MiB")])
def test_the_writer_holds_duckdb_to_its_memory_limit_while_it_publishes(
    monkeypatch, tmp_path, value, limit
):
    if value is not None:
        monkeypatch.setenv("INGEST_WRITER_MEMORY_MIB", value)
    seen: dict[str, str] = {}
    # the buffer manager's own limit: current_setting() reports a RESET that the buffer
    # manager never applied (DuckDB 1.5)
    held_to = "select memory_limit from pragma_database_size() limit 1"

    def watching(step: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def run(conn: Any, *args: Any, **kwargs: Any) -> Any:
            seen[step] = conn.execute(held_to).fetchone()[0]
            return real(conn, *args, **kwargs)

        return run

    monkeypatch.setattr(pipeline, "publish_group", watching("publish", pipeline.publish_group))
    monkeypatch.setattr(pipeline, "refresh_marts", watching("marts", pipeline.refresh_marts))
    settings = Settings.from_env(tmp_path / "w.duckdb")
    with writer(settings) as conn:
        default = conn.execute(held_to).fetchone()[0]
    assert default != limit
    youtube = FIXTURES / "youtube"
    results = pipeline.load_files(
        [youtube / "channels_list.json", youtube / "videos_list.json"], settings
    )
    assert [r.status for r in results] == ["published", "published"]
    # a year of marts rebuilt for many accounts needs more than the publish's limit; the limit
    # goes back to what DuckDB printed, which it rounds (18.8 GiB may come back as 18.7 GiB)
    assert seen["publish"] == limit
    assert mebibytes(seen["marts"]) == pytest.approx(mebibytes(default), rel=0.01)


def mebibytes(limit: str) -> float:
    number, unit = limit.split()
    return float(number) * {"MiB": 1, "GiB": 1024, "TiB": 1024**2}[unit]


def test_values_are_read_when_asked_not_when_imported(monkeypatch, tmp_path):
    assert Settings.from_env(tmp_path / "w.duckdb").busy_timeout == 30.0
    monkeypatch.setenv("INGEST_BUSY_TIMEOUT", "2.5")
    monkeypatch.setenv("INGEST_LANDING", str(tmp_path / "in"))
    settings = Settings.from_env(tmp_path / "w.duckdb")
    assert (settings.busy_timeout, settings.landing) == (2.5, tmp_path / "in")
    monkeypatch.setenv("INGEST_LANDING", "")  # empty is unset, as it always was
    assert Settings.from_env(tmp_path / "w.duckdb").landing == tmp_path / "landing"


def test_pull_options_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("INGEST_HTTP_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("INGEST_HTTP_BASE_DELAY", "0.25")
    monkeypatch.setenv("INGEST_HTTP_TIMEOUT", "12")
    monkeypatch.setenv("INGEST_PULL_LOOKBACK_DAYS", "7")
    monkeypatch.setenv("INGEST_SNAPSHOT_GRACE_HOURS", "1.5")
    options = PullOptions.from_env("snapchat")
    assert (options.policy.max_attempts, options.policy.base_delay) == (3, 0.25)
    assert options.policy.read_timeout == 12.0
    assert options.lookback_days == 7
    assert options.snapshot_grace == timedelta(hours=1.5)


def test_a_fifth_platform_brings_its_variables(monkeypatch):
    fifth = fifth_platform()
    names = [v.env for v in variables([*platforms().values(), fifth])]
    assert names[-3:] == ["INGEST_FIFTH_TOKEN", "INGEST_FIFTH_KEY", "INGEST_FIFTH_PAGE_SIZE"]
    monkeypatch.setenv("INGEST_FIFTH_TOKEN", "fifth-token-0123456789")
    monkeypatch.setenv("INGEST_FIFTH_PAGE_SIZE", "80")
    own = read_platform(fifth)
    assert own.secret_token() == "fifth-token-0123456789"
    assert own.options() == KeyOptions(page_size=80)
    assert "fifth-token-0123456789" not in repr(own)
    key = "fifth-instance-key-0123456789"
    monkeypatch.setenv("INGEST_FIFTH_KEY", key)
    options = read_platform(fifth).options()
    assert isinstance(options, KeyOptions) and options.instance_key is not None
    assert options.instance_key.get_secret_value() == key and key not in repr(options)
    monkeypatch.setenv("INGEST_FIFTH_PAGE_SIZE", "81")
    with pytest.raises(ConfigError, match=r"INGEST_FIFTH_PAGE_SIZE='81' .* from 1 to 80"):
        read_platform(fifth)


TOKEN_CREDENTIALS = [
    (
        "tiktok",
        TikTokCredentials,
        {
            "INGEST_TIKTOK_REFRESH_TOKEN": "rft.tiktok-refresh-0123456789",
            "INGEST_TIKTOK_CLIENT_KEY": "awclientkey01",
            "INGEST_TIKTOK_CLIENT_SECRET": "tiktok-client-secret-0123456789",
        },
    ),
    (
        "snapchat",
        SnapchatCredentials,
        {
            "INGEST_SNAPCHAT_REFRESH_TOKEN": "snap-refresh-0123456789",
            "INGEST_SNAPCHAT_CLIENT_ID": "snap-client-id-01",
            "INGEST_SNAPCHAT_CLIENT_SECRET": "snap-client-secret-0123456789",
        },
    ),
    (
        "instagram",
        InstagramCredentials,
        {
            "INGEST_INSTAGRAM_APP_ID": "1234567890",
            "INGEST_INSTAGRAM_APP_SECRET": "meta-app-secret-0123456789",
        },
    ),
]


@pytest.mark.parametrize(("platform", "kind", "values"), TOKEN_CREDENTIALS)
def test_token_credentials_are_the_platforms_declared_and_masked_once_read(
    platform, kind, values, monkeypatch
):
    own = [v for v in variables([get(platform)]) if v.platform == platform]
    assert set(values) <= {v.env for v in own}
    secrets = [v.env for v in own if v.secret and v.env in values]
    assert secrets  # a refresh token or client secret at least
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    read = read_platform(get(platform))
    credentials = read.credentials()
    assert isinstance(credentials, kind)
    assert {name: read.value_of(name) for name in values} == values
    shown = f"{read!r} {read!s} {credentials!r} {read.model_dump()}"
    for name in secrets:
        assert values[name] not in shown
        # read once, masked everywhere: a log line or error holding it shows ***
        assert values[name] not in redact(f"sent {values[name]} to the token endpoint")


def test_config_lists_the_token_variables_with_secrets_masked(monkeypatch):
    monkeypatch.setenv("INGEST_TOKEN_WARN_DAYS", "14")
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_KEY", "awclientkey01")
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_SECRET", "tiktok-client-secret-0123456789")
    report = describe_config()
    entries = {e["env"]: e for e in report.to_dict()["settings"]}  # type: ignore[union-attr, index]
    assert (
        entries["INGEST_TOKEN_WARN_DAYS"]["value"],
        entries["INGEST_TOKEN_WARN_DAYS"]["source"],
    ) == (14, "env")
    assert entries["INGEST_TIKTOK_CLIENT_KEY"]["value"] == "awclientkey01"
    secret = entries["INGEST_TIKTOK_CLIENT_SECRET"]
    assert (secret["value"], secret["source"], secret["secret"]) == ("***", "env", True)
    assert secret["name"] == "tiktok.client_secret" and secret["platform"] == "tiktok"
    refresh = entries["INGEST_TIKTOK_REFRESH_TOKEN"]
    assert (refresh["value"], refresh["source"], refresh["secret"]) == (None, "default", True)
    assert "tiktok-client-secret" not in str(report) + json.dumps(report.to_dict())


def test_a_fifth_platforms_token_support_brings_its_credentials(monkeypatch):
    fifth = replace(fifth_platform(), tokens=f"{__name__}:FIFTH_TOKENS")
    names = [v.env for v in variables([*platforms().values(), fifth])]
    assert names[-5:] == [
        "INGEST_FIFTH_TOKEN",
        "INGEST_FIFTH_REFRESH_TOKEN",
        "INGEST_FIFTH_CLIENT_ID",
        "INGEST_FIFTH_KEY",
        "INGEST_FIFTH_PAGE_SIZE",
    ]
    monkeypatch.setenv("INGEST_FIFTH_REFRESH_TOKEN", "fifth-refresh-0123456789")
    monkeypatch.setenv("INGEST_FIFTH_CLIENT_ID", "fifth-app")
    read = read_platform(fifth)
    assert read.credentials() == FifthCredentials(
        refresh_token=SecretStr("fifth-refresh-0123456789"), client_id="fifth-app"
    )
    assert read.options() == KeyOptions()
    assert "fifth-refresh-0123456789" not in redact("fifth-refresh-0123456789")


@pytest.mark.parametrize(
    ("support", "refused"),
    [
        ("UNDECLARED_REFRESH", "refresh_env INGEST_FIFTH_SOMEWHERE_ELSE is not a variable"),
        ("NOT_A_MODEL", "is not a pydantic model"),
    ],
)
def test_a_token_support_that_does_not_declare_its_variables_is_refused(support, refused):
    odd = replace(fifth_platform(), name=support.lower(), tokens=f"{__name__}:{support}")
    with pytest.raises(ConfigError, match=refused):
        platform_settings_class(odd)


def test_two_declarations_of_one_variable_are_refused():
    twin = replace(fifth_platform(), name="twin", token_env="INGEST_BUSY_TIMEOUT")
    with pytest.raises(ConfigError, match="INGEST_BUSY_TIMEOUT is declared by the core and twin"):
        variables([twin])


def test_options_that_are_not_a_settings_model_are_refused():
    odd = replace(fifth_platform(), name="odd", pull_options=f"{__name__}:fifth_platform")
    with pytest.raises(ConfigError, match="is not a pydantic model"):
        platform_settings_class(odd)


def test_no_repr_shows_a_token_or_the_catalog_password(monkeypatch):
    monkeypatch.setenv("INGEST_WAREHOUSE", "ducklake:postgres:" + CONNINFO)
    monkeypatch.setenv("INGEST_YOUTUBE_API_KEY", "yt-key-shown-nowhere-42")
    core = read_core()
    assert core.warehouse.endswith(CONNINFO)
    assert "hunter2" not in repr(core) and "hunter2" not in str(core)
    own = read_platform(get("youtube"))
    assert "yt-key-shown-nowhere-42" not in f"{own!r} {own!s} {own.model_dump()}"


# ---- ingest config


def test_config_shows_every_variable_where_it_came_from_with_secrets_masked(monkeypatch, tmp_path):
    token = "ig-token-never-shown-0123456789"
    monkeypatch.setenv("INGEST_INSTAGRAM_TOKEN", token)
    monkeypatch.setenv("INGEST_BUSY_TIMEOUT", "12")
    monkeypatch.setenv("INGEST_WAREHOUSE", str(tmp_path / "env" / "creators.duckdb"))
    flagged = tmp_path / "warehouse" / "creators.duckdb"
    report = describe_config(str(flagged))
    data = report.to_dict()
    entries = {e["env"]: e for e in data["settings"]}  # type: ignore[union-attr, index]
    assert list(entries) == declared_names()
    assert entries["INGEST_WAREHOUSE"]["value"] == str(flagged)
    assert entries["INGEST_WAREHOUSE"]["source"] == "flag"
    assert entries["INGEST_BUSY_TIMEOUT"] | {} == {
        "name": "busy_timeout",
        "env": "INGEST_BUSY_TIMEOUT",
        "value": 12.0,
        "source": "env",
        "platform": None,
        "secret": False,
    }
    # derived defaults are shown as what they resolve to
    assert entries["INGEST_LANDING"]["value"] == str(tmp_path / "landing")
    assert entries["INGEST_LANDING"]["source"] == "default"
    assert entries["INGEST_INBOX"]["value"] == str(tmp_path / "inbox")
    instagram = entries["INGEST_INSTAGRAM_TOKEN"]
    assert (instagram["value"], instagram["source"], instagram["secret"]) == ("***", "env", True)
    assert instagram["platform"] == "instagram"
    assert entries["INGEST_YOUTUBE_API_KEY"]["value"] is None
    assert entries["INGEST_YOUTUBE_QUOTA_UNITS"]["name"] == "youtube.quota_units"
    text = str(report)
    assert token not in text and token not in json.dumps(data)
    lines = text.splitlines()
    assert lines[0].split() == ["variable", "value", "from", "platform"]
    busy = next(line for line in lines if line.startswith("INGEST_BUSY_TIMEOUT "))
    assert busy.split() == ["INGEST_BUSY_TIMEOUT", "12.0", "env"]
    # the columns line up
    assert len({line.index(line.split()[1]) for line in lines[1:]}) == 1


def test_config_masks_the_catalog_password_and_names_the_data_path_flag(tmp_path):
    report = describe_config("ducklake:postgres:" + CONNINFO, str(tmp_path / "data"))
    text = str(report) + json.dumps(report.to_dict())
    assert "hunter2" not in text and "password=***" in text
    entries = {e["env"]: e for e in report.to_dict()["settings"]}  # type: ignore[union-attr, index]
    assert entries["INGEST_LAKE_DATA_PATH"]["source"] == "flag"
    assert entries["INGEST_LAKE_DATA_PATH"]["value"] == str(tmp_path / "data")


def test_config_names_a_bad_value(monkeypatch):
    monkeypatch.setenv("INGEST_HTTP_MAX_ATTEMPTS", "zero")
    with pytest.raises(ConfigError, match=r"INGEST_HTTP_MAX_ATTEMPTS='zero' is not valid"):
        describe_config()


# ---- one place reads the environment, one table documents it

SHIPPED = [REPO / "src", REPO / "dags", REPO / "plugins"]
# files that touch os.environ for something other than an INGEST_* variable, and why
OTHER_ENVIRONMENT_USES = {
    "src/ingest/validation/gx.py": "turns Great Expectations' analytics off",
}


def shipped_python() -> list[Path]:
    return sorted(p for top in SHIPPED for p in top.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_reads_the_environment_behind_the_settings_back():
    readers = {
        str(p.relative_to(REPO))
        for p in shipped_python()
        if re.search(r"\b(os\.environ|getenv|environ\.get)\b", p.read_text(encoding="utf-8"))
    }
    assert readers == set(OTHER_ENVIRONMENT_USES)


def test_every_variable_the_code_names_is_declared():
    known = set(declared_names())
    named = {
        (str(p.relative_to(REPO)), name)
        for p in shipped_python()
        for name in re.findall(r"\bINGEST_[A-Z][A-Z0-9_]*[A-Z0-9]\b", p.read_text("utf-8"))
    }
    assert {(path, name) for path, name in named if name not in known} == set()


def readme_table() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `INGEST_")]


def expected_table() -> list[str]:
    rows = []
    for v in variables(list(platforms().values())):
        kind = "secret" if v.secret else v.kind
        rows.append(f"| `{v.env}` | {kind} | {v.default} | {v.description} | {v.platform or '-'} |")
    return rows


def test_the_readme_table_lists_every_variable_and_no_other():
    documented = readme_table()
    names = [row.split("`")[1] for row in documented]
    fix = "\n".join(["the README table should be:", *expected_table()])
    assert names == declared_names(), fix
    assert documented == expected_table(), fix
