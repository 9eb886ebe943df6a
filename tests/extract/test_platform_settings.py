"""What the pull core reads from each platform's declaration: account ids, tokens, own settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.client import ApiClient
from ingest.errors import IngestError
from ingest.extract import Account, PullOptions, parse_accounts, token_from_env
from ingest.platforms import get, platforms
from ingest.platforms.instagram.pull import Options as InstagramOptions
from ingest.platforms.tiktok.pull import Options as TikTokOptions
from ingest.platforms.youtube.pull import Options as YouTubeOptions

CHANNEL = "UC" + "a" * 22

ACCOUNT_CASES = [
    ("youtube", [CHANNEL, "@somecreator"], [(CHANNEL, None), (None, "@somecreator")]),
    ("snapchat", ["c0ffee-1", " c0ffee-1 "], [("c0ffee-1", None)]),
    ("instagram", ["@anna", "anna", ""], [(None, "anna")]),
    ("tiktok", ["@dancer"], [(None, "dancer")]),
]


@pytest.mark.parametrize(("platform", "values", "expected"), ACCOUNT_CASES)
def test_accounts_are_read_by_the_platforms_own_rule(platform, values, expected):
    got = parse_accounts(platform, values)
    assert [(a.account_id, a.handle) for a in got] == expected
    assert all(isinstance(a, Account) and a.platform == platform for a in got)


ENV_CASES = [
    ("youtube", {"INGEST_YOUTUBE_QUOTA_UNITS": "250"}, YouTubeOptions(quota_units=250)),
    ("youtube", {}, YouTubeOptions()),
    (
        "instagram",
        {"INGEST_INSTAGRAM_USER_ID": "17841400001"},
        InstagramOptions(user_id="17841400001"),
    ),
    ("tiktok", {"INGEST_TIKTOK_API": "display"}, TikTokOptions(api="display")),
    ("snapchat", {"INGEST_YOUTUBE_QUOTA_UNITS": "250"}, None),
]


@pytest.mark.parametrize(("platform", "env", "expected"), ENV_CASES)
def test_each_platform_reads_its_own_settings_from_its_variables(
    platform, env, expected, monkeypatch
):
    for name in (
        "INGEST_YOUTUBE_QUOTA_UNITS",
        "INGEST_INSTAGRAM_USER_ID",
        "INGEST_TIKTOK_API",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert PullOptions.from_env(platform).platform_options == expected


@pytest.mark.parametrize("platform", list(platforms()))
def test_the_token_comes_from_the_declared_variable(platform, monkeypatch):
    for other in platforms().values():
        if other.token_env:
            monkeypatch.delenv(other.token_env, raising=False)
    assert token_from_env(platform) is None
    monkeypatch.setenv(get(platform).token_env or "", "tok-" + platform * 2)
    assert token_from_env(platform) == "tok-" + platform * 2
    assert PullOptions.from_env(platform).token == "tok-" + platform * 2


def test_options_of_another_platform_are_refused():
    options = replace(PullOptions(), platform_options=TikTokOptions(api="display"))
    assert options.platform_options_as(TikTokOptions).api == "display"
    assert PullOptions().platform_options_as(YouTubeOptions) == YouTubeOptions()
    with pytest.raises(TypeError, match=r"tiktok\.pull\.Options, not .*youtube\.pull\.Options"):
        options.platform_options_as(YouTubeOptions)


def test_the_client_base_takes_host_and_credential_from_the_platform():
    declared = get("snapchat")
    with ApiClient(declared, "bearer-secret-value") as client:
        assert client.http.base_url == declared.api_host.rstrip("/") + "/"
        assert client.credential.where == (
            f"the Airflow connection '{declared.connection_id}' or the environment variable"
            f" {declared.token_env}"
        )
        assert client.bearer() == {"Authorization": "Bearer bearer-secret-value"}
    moved = ApiClient(declared, None, base_url="http://127.0.0.1:9")
    assert moved.http.base_url == "http://127.0.0.1:9/"
    with pytest.raises(IngestError, match="no token: set the Airflow connection"):
        moved.bearer()
    moved.close()


def test_a_platform_without_an_api_has_no_client():
    bare = replace(get("snapchat"), name="files_only", api_host=None, token_env=None)
    with pytest.raises(IngestError, match="'files_only' declares no API"):
        ApiClient(bare, "secret")
