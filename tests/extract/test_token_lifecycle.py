"""Token lifecycle against loopback platform APIs: expiry recorded, warned, refreshed, explained.

The fakes serve Instagram's ``debug_token`` and the TikTok and Snapchat OAuth token endpoints;
a refresh makes the fresh token the only one their APIs accept, so a pull that succeeds after
a refresh can only have used the new token.
"""

from __future__ import annotations

import logging
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ingest import runs
from ingest.config import ConfigError, Settings
from ingest.extract import pull
from ingest.platforms.tiktok.pull import Options as TikTokOptions
from ingest.tokens import (
    WARN_DAYS_ENV,
    check_at_pull_start,
    fingerprint,
    record_notes,
    token_states,
)
from tests.extract.conftest import (
    IG_TOKEN,
    SNAP_TOKEN,
    TT_DISPLAY_TOKEN,
    TT_TOKEN,
    YT_KEY,
    options,
    query,
)
from tests.extract.fakes import DAY, NOW, FakeInstagram, FakeSnapchat, FakeTikTok, OAuthEndpoint
from tests.test_secrets_everywhere import files_holding, tables_holding

ACCOUNTS = ["creator_0", "creator_1"]
APP_ID = "1234567890"
APP_SECRET = "APPsecretINSTAGRAMmeta0123456789"
TT_KEY = "awTIKTOKclientKEY01"
TT_SECRET = "TIKTOKclientSECRET0123456789abcdef"
TT_REFRESH = "rft.TIKTOKrefreshTOKEN0123456789"
SNAP_ID = "snap-client-id-0001"
SNAP_SECRET = "SNAPclientSECRET0123456789abcdef"
SNAP_REFRESH = "SNAPrefreshTOKEN0123456789abcdefg"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        WARN_DAYS_ENV,
        "INGEST_INSTAGRAM_APP_ID",
        "INGEST_INSTAGRAM_APP_SECRET",
        "INGEST_TIKTOK_REFRESH_TOKEN",
        "INGEST_TIKTOK_CLIENT_KEY",
        "INGEST_TIKTOK_CLIENT_SECRET",
        "INGEST_TIKTOK_API",
        "INGEST_SNAPCHAT_REFRESH_TOKEN",
        "INGEST_SNAPCHAT_CLIENT_ID",
        "INGEST_SNAPCHAT_CLIENT_SECRET",
        "INGEST_INSTAGRAM_TOKEN",
        "INGEST_TIKTOK_TOKEN",
        "INGEST_SNAPCHAT_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def display_tiktok() -> Iterator[tuple[FakeTikTok, str]]:
    api = FakeTikTok(TT_DISPLAY_TOKEN)
    url = api.start()
    try:
        yield api, url
    finally:
        api.stop()


def leaks(settings: Settings, secrets: list[str], *texts: str) -> list[str]:
    """Where any of ``secrets`` shows: the texts given, any table, any file but the store."""
    found = []
    for secret in secrets:
        found += [f"text {n}: {secret[:6]}" for n, text in enumerate(texts) if secret in text]
        found += [
            hit
            for hit in files_holding(settings.landing, secret)
            # the rotated refresh token is kept on purpose, readable by its owner only
            if not hit.endswith(".refresh.json")
        ]
        if settings.warehouse.exists():
            found += tables_holding(settings.warehouse, secret)
    return found


def checks(settings: Settings) -> list[tuple[object, ...]]:
    """The recorded token checks (a pull without load leaves them as notes: moved first)."""
    record_notes(settings)
    return query(
        settings,
        "select platform, variable, fingerprint, expires_at, never_expires, valid, source,"
        " refreshed_at is not null from meta.token_checks order by checked_at, variable",
    )


# ---- Instagram: debug_token tells the expiry


@pytest.mark.parametrize(
    ("days_left", "warn_days", "warned"),
    [(3, None, True), (30, None, False), (30, "40", True), (8, None, False), (7, None, True)],
    ids=["3-of-7", "30-of-7", "30-of-40", "8-of-7", "7-of-7"],
)
def test_instagram_expiry_is_recorded_and_warned_within_the_window(
    instagram, settings, sleeps, monkeypatch, caplog, capsys, days_left, warn_days, warned
):
    api, url = instagram
    assert isinstance(api, FakeInstagram)
    api.token_expires_at = NOW + timedelta(days=days_left)
    if warn_days is not None:
        monkeypatch.setenv(WARN_DAYS_ENV, warn_days)
    caplog.set_level(logging.INFO)
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps),
    )
    assert summary.ok, str(summary)
    expiring = [w for w in summary.warnings if "INGEST_INSTAGRAM_TOKEN expires" in w]
    logged = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "INGEST_INSTAGRAM_TOKEN expires" in r.getMessage()
    ]
    assert bool(expiring) is warned and bool(logged) is warned
    if warned:
        assert f"{days_left} day(s) left" in expiring[0]
        assert "fb_exchange_token" in expiring[0]  # how to renew it, in the platform's words
        assert expiring[0] in str(summary)
    rows = checks(settings)
    assert len(rows) == 1
    platform, variable, printed, expires, never, valid, source, refreshed = rows[0]
    assert (platform, variable, printed) == (
        "instagram",
        "INGEST_INSTAGRAM_TOKEN",
        fingerprint(IG_TOKEN),
    )
    assert expires == NOW + timedelta(days=days_left)
    assert (never, valid, source, refreshed) == (False, True, "debug endpoint", False)
    (state,) = token_states(settings, now=NOW)
    assert state.warning is warned and state.days_left == days_left
    assert state.to_dict()["variable"] == "INGEST_INSTAGRAM_TOKEN"
    assert ("warning: yes" if warned else "warning: no") in str(state)
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err + str(summary) + str(state) + str(state.to_dict())
    assert leaks(settings, [IG_TOKEN], text) == []


def test_debug_token_is_asked_with_the_app_token_when_the_app_is_configured(
    instagram, settings, sleeps, monkeypatch, caplog
):
    api, url = instagram
    assert isinstance(api, FakeInstagram)
    api.app_token = f"{APP_ID}|{APP_SECRET}"
    monkeypatch.setenv("INGEST_INSTAGRAM_APP_ID", APP_ID)
    monkeypatch.setenv("INGEST_INSTAGRAM_APP_SECRET", APP_SECRET)
    caplog.set_level(logging.DEBUG)
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps),
    )
    assert summary.ok, str(summary)
    (debug,) = api.calls("/debug_token")
    assert debug.bearer == api.app_token and debug.query["input_token"] == IG_TOKEN
    assert leaks(settings, [IG_TOKEN, APP_SECRET], caplog.text, str(summary)) == []


@pytest.mark.parametrize("asked_with_app", [True, False], ids=["app-token", "own-token"])
def test_an_expired_instagram_token_stops_the_pull_naming_it_and_how_to_renew_it(
    instagram, settings, sleeps, monkeypatch, caplog, asked_with_app
):
    api, url = instagram
    assert isinstance(api, FakeInstagram)
    api.token_valid = False
    api.token_expires_at = NOW - timedelta(days=2)
    if asked_with_app:
        api.app_token = f"{APP_ID}|{APP_SECRET}"
        monkeypatch.setenv("INGEST_INSTAGRAM_APP_ID", APP_ID)
        monkeypatch.setenv("INGEST_INSTAGRAM_APP_SECRET", APP_SECRET)
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps),
    )
    assert not summary.ok
    (message,) = summary.errors
    assert "INGEST_INSTAGRAM_TOKEN" in message and "'instagram_default'" in message
    assert "fb_exchange_token" in message  # the platform's renew hint
    assert ("has expired" if asked_with_app else "the token was rejected") in message
    # nothing was asked with the dead token
    assert api.calls("business_discovery") == [] and api.calls("/me") == []
    (state,) = token_states(settings, now=NOW)
    assert state.expired and state.warning and state.valid is False
    assert ("EXPIRED" if asked_with_app else "REFUSED") in str(state)
    assert leaks(settings, [IG_TOKEN, APP_SECRET], message, caplog.text) == []


def test_a_token_the_api_rejects_mid_pull_names_the_variable_and_how_to_renew_it(
    tiktok, settings, sleeps, caplog
):
    _, url = tiktok
    stale = "clt.TIKTOKstaleTOKEN0123456789"
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        load=False,
        options=options(stale, sleeps),
    )
    assert not summary.ok
    (error,) = summary.errors
    assert "access_token_invalid" in error
    assert "INGEST_TIKTOK_TOKEN" in error and "'tiktok_default'" in error
    assert "INGEST_TIKTOK_CLIENT_KEY" in error  # the renew hint
    assert leaks(settings, [stale], error, caplog.text, str(summary)) == []


# ---- TikTok and Snapchat: refresh tokens


def test_a_tiktok_refresh_token_renews_the_token_and_a_rotated_one_is_kept(
    display_tiktok, settings, sleeps, monkeypatch, caplog, capsys
):
    api, url = display_tiktok
    oauth = OAuthEndpoint(
        api,
        client_id=TT_KEY,
        client_secret=TT_SECRET,
        refresh_token=TT_REFRESH,
        id_field="client_key",
        token_prefix="act.",
        rotate=True,
    )
    api.oauth = oauth
    api.token = "act.NOTYETissuedTOKEN0000000000"  # the configured token has expired
    monkeypatch.setenv("INGEST_TIKTOK_REFRESH_TOKEN", TT_REFRESH)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_KEY", TT_KEY)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_SECRET", TT_SECRET)
    caplog.set_level(logging.INFO)
    expired = TT_DISPLAY_TOKEN
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(expired, sleeps),
    )
    assert summary.ok, str(summary)
    assert summary.warnings == []  # a day-long token that renews itself is nothing to act on
    (first,) = oauth.issued
    served = [r for r in api.requests if r.path != "/v2/oauth/token/"]
    assert served and all(r.bearer == first for r in served)
    (grant,) = api.calls("/v2/oauth/token/")
    assert grant.body["grant_type"] == "refresh_token" and grant.body["refresh_token"] == TT_REFRESH

    rows = checks(settings)
    assert rows == [
        ("tiktok", "INGEST_TIKTOK_REFRESH_TOKEN", fingerprint(oauth.refresh_tokens[1]),
         NOW + timedelta(days=365), False, True, "refresh response", False),
        ("tiktok", "INGEST_TIKTOK_TOKEN", fingerprint(first), NOW + timedelta(days=1), False,
         True, "refresh response", True),
    ]  # fmt: skip

    # TikTok rotated the refresh token: the variable's value no longer works, the kept one does
    later = pull(
        "tiktok",
        DAY + timedelta(days=1),
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(first, sleeps, clock=lambda: NOW + timedelta(days=1)),
    )
    assert later.ok, str(later)
    second = api.calls("/v2/oauth/token/")[1]
    assert second.body["refresh_token"] == oauth.refresh_tokens[1]
    states = {s.variable: s for s in token_states(settings, now=NOW + timedelta(days=1))}
    assert states["INGEST_TIKTOK_TOKEN"].fingerprint == fingerprint(oauth.issued[1])
    assert states["INGEST_TIKTOK_TOKEN"].last_refreshed_at == NOW + timedelta(days=1)
    # a day-long token the next pull renews is nothing to warn about in status either
    assert states["INGEST_TIKTOK_TOKEN"].renews_itself
    assert not states["INGEST_TIKTOK_TOKEN"].warning
    assert "renewed at every pull" in str(states["INGEST_TIKTOK_TOKEN"])
    assert not states["INGEST_TIKTOK_REFRESH_TOKEN"].warning
    store = settings.landing / "_state" / "_tokens" / "tiktok.refresh.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600

    out = capsys.readouterr()
    secrets = [TT_REFRESH, TT_SECRET, expired, *oauth.issued, *oauth.refresh_tokens]
    text = caplog.text + out.out + out.err + str(summary) + str(later)
    assert leaks(settings, secrets, text) == []


def test_a_refresh_token_near_its_end_is_warned_about(
    display_tiktok, settings, sleeps, monkeypatch
):
    api, url = display_tiktok
    api.oauth = OAuthEndpoint(
        api,
        client_id=TT_KEY,
        client_secret=TT_SECRET,
        refresh_token=TT_REFRESH,
        id_field="client_key",
        token_prefix="act.",
        refresh_expires_in=5 * 86400,
    )
    monkeypatch.setenv("INGEST_TIKTOK_REFRESH_TOKEN", TT_REFRESH)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_KEY", TT_KEY)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_SECRET", TT_SECRET)
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(None, sleeps),
    )
    assert summary.ok, str(summary)
    (warning,) = summary.warnings
    assert "INGEST_TIKTOK_REFRESH_TOKEN expires" in warning and "5 day(s) left" in warning
    assert "Login Kit" in warning


def test_a_refused_refresh_fails_naming_the_refresh_variable_and_how_to_renew_it(
    display_tiktok, settings, sleeps, monkeypatch, caplog
):
    api, url = display_tiktok
    api.oauth = OAuthEndpoint(
        api, client_id=TT_KEY, client_secret=TT_SECRET, refresh_token="rft.someOTHERrefresh0001"
    )
    api.oauth.id_field = "client_key"
    monkeypatch.setenv("INGEST_TIKTOK_REFRESH_TOKEN", TT_REFRESH)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_KEY", TT_KEY)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_SECRET", TT_SECRET)
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(TT_DISPLAY_TOKEN, sleeps),
    )
    assert not summary.ok
    (message,) = summary.errors
    assert "INGEST_TIKTOK_REFRESH_TOKEN" in message and "invalid_grant" in message
    assert "tiktok_default" not in message  # the access token's place is not the problem
    assert "Login Kit" in message
    assert [r.path for r in api.requests] == ["/v2/oauth/token/"]
    assert leaks(settings, [TT_REFRESH, TT_SECRET, TT_DISPLAY_TOKEN], message, caplog.text) == []


def test_research_tokens_come_from_the_client_credentials(tiktok, settings, sleeps, monkeypatch):
    api, url = tiktok
    oauth = OAuthEndpoint(
        api,
        client_id=TT_KEY,
        client_secret=TT_SECRET,
        refresh_token="unused",
        id_field="client_key",
        token_prefix="clt.",
        expires_in=7200,
        refresh_expires_in=None,
    )
    api.oauth = oauth
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_KEY", TT_KEY)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_SECRET", TT_SECRET)
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(TT_TOKEN, sleeps),
    )
    assert summary.ok, str(summary)
    (grant,) = api.calls("/v2/oauth/token/")
    assert grant.body["grant_type"] == "client_credentials"
    (row,) = checks(settings)
    assert row[:4] == (
        "tiktok",
        "INGEST_TIKTOK_TOKEN",
        fingerprint(oauth.issued[0]),
        NOW + timedelta(hours=2),
    )


@pytest.mark.parametrize(
    ("chosen", "given", "grants"),
    [
        (None, None, ["client_credentials"]),  # a `clt.` token: Research, by its prefix
        ("display", "env", []),  # a Display token needs a refresh token, none is set
        ("display", "pull", []),
        ("research", "pull", ["client_credentials"]),
    ],
)
def test_the_api_the_pull_is_for_decides_whether_client_credentials_renew_it(
    tiktok, settings, sleeps, monkeypatch, chosen, given, grants
):
    api, url = tiktok
    api.oauth = OAuthEndpoint(
        api,
        client_id=TT_KEY,
        client_secret=TT_SECRET,
        refresh_token="unused",
        id_field="client_key",
        token_prefix="clt.",
        expires_in=7200,
        refresh_expires_in=None,
    )
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_KEY", TT_KEY)
    monkeypatch.setenv("INGEST_TIKTOK_CLIENT_SECRET", TT_SECRET)
    if given == "env":
        monkeypatch.setenv("INGEST_TIKTOK_API", chosen)
    check = check_at_pull_start(
        "tiktok",
        settings,
        token=TT_TOKEN,
        base_url=url,
        sleep=sleeps,
        clock=lambda: NOW,
        platform_options=TikTokOptions(api=chosen) if given == "pull" else None,
    )
    assert [r.body["grant_type"] for r in api.calls("/v2/oauth/token/")] == grants
    assert (check.token == TT_TOKEN) is (not grants)


def test_snapchat_refreshes_its_short_token_from_its_own_oauth_host(
    snapchat, settings, sleeps, monkeypatch, caplog
):
    api, url = snapchat
    assert isinstance(api, FakeSnapchat)
    oauth = OAuthEndpoint(
        api,
        client_id=SNAP_ID,
        client_secret=SNAP_SECRET,
        refresh_token=SNAP_REFRESH,
        expires_in=1800,
        refresh_expires_in=None,
    )
    api.oauth = oauth
    monkeypatch.setenv("INGEST_SNAPCHAT_REFRESH_TOKEN", SNAP_REFRESH)
    monkeypatch.setenv("INGEST_SNAPCHAT_CLIENT_ID", SNAP_ID)
    monkeypatch.setenv("INGEST_SNAPCHAT_CLIENT_SECRET", SNAP_SECRET)
    profile = next(iter(api.profiles))
    summary = pull(
        "snapchat",
        DAY,
        settings,
        accounts=[profile],
        base_url=url,
        load=False,
        options=options(SNAP_TOKEN, sleeps),
    )
    assert summary.ok, str(summary)
    (grant,) = api.calls("/login/oauth2/access_token")
    assert grant.body["client_id"] == SNAP_ID and grant.body["grant_type"] == "refresh_token"
    assert all(r.bearer == oauth.issued[0] for r in api.requests if "oauth2" not in r.path)
    (row,) = checks(settings)
    assert row[1:4] == (
        "INGEST_SNAPCHAT_TOKEN",
        fingerprint(oauth.issued[0]),
        NOW + timedelta(minutes=30),
    )
    assert (
        leaks(settings, [SNAP_REFRESH, SNAP_SECRET, SNAP_TOKEN, *oauth.issued], caplog.text) == []
    )


# ---- the DAG's pull, status on a new warehouse, a platform that declares nothing


def test_the_dag_pull_task_logs_the_warning_and_keeps_the_check_out_of_the_warehouse(
    instagram, settings, monkeypatch, caplog
):
    api, url = instagram
    assert isinstance(api, FakeInstagram)
    caplog.set_level(logging.INFO)
    # the DAG's pull runs on the real clock: the token expires two days after it
    api.token_expires_at = datetime.now(UTC) + timedelta(days=2, hours=1)
    result = runs.pull_platform_day(
        "instagram", DAY, settings, token=IG_TOKEN, base_url=url, accounts=ACCOUNTS
    )
    assert "INGEST_INSTAGRAM_TOKEN expires" in " ".join(result["warnings"])
    warned = [
        r for r in caplog.records
        if r.levelno == logging.WARNING and "INGEST_INSTAGRAM_TOKEN expires" in r.getMessage()
    ]  # fmt: skip
    assert warned and "2 day(s) left" in warned[0].getMessage()
    # the pull task never opens the warehouse: the check waits as a note until a writer runs
    assert not settings.warehouse.exists()
    (state,) = token_states(settings)
    assert state.warning and state.variable == "INGEST_INSTAGRAM_TOKEN"
    assert record_notes(settings) == 1
    assert record_notes(settings) == 0
    assert [r[1] for r in checks(settings)] == ["INGEST_INSTAGRAM_TOKEN"]
    (again,) = token_states(settings)
    assert again.fingerprint == state.fingerprint and again.expires_at == state.expires_at
    assert leaks(settings, [IG_TOKEN], caplog.text, str(result)) == []


def test_token_states_on_a_new_warehouse_is_empty(settings):
    assert token_states(settings) == []


def test_an_api_key_is_recorded_as_not_expiring(youtube, settings, sleeps):
    api, url = youtube
    channel = next(iter(api.channels))
    summary = pull(
        "youtube",
        DAY,
        settings,
        accounts=[channel],
        base_url=url,
        load=False,
        options=options(YT_KEY, sleeps),
    )
    assert summary.ok and summary.warnings == []
    (state,) = token_states(settings, now=NOW)
    assert state.never_expires and not state.warning and "does not expire" in str(state)
    assert state.to_dict()["days_left"] is None


@pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
def test_a_bad_warning_window_names_the_variable(settings, monkeypatch, value):
    monkeypatch.setenv(WARN_DAYS_ENV, value)
    expected = f"{WARN_DAYS_ENV}={value!r} is not valid: expected a whole number of at least 0"
    with pytest.raises(ConfigError) as refused:
        token_states(settings)
    assert str(refused.value) == expected
    # a pull refuses it the same way, before asking anything
    with pytest.raises(ConfigError, match=re.escape(expected)):
        check_at_pull_start("youtube", settings, token=YT_KEY)


def test_a_busy_warehouse_keeps_the_check_as_a_note_and_the_pull_goes_on(settings, caplog):
    settings.warehouse.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " sys.stdin.read()",
            str(settings.warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        check = check_at_pull_start(
            "youtube", replace(settings, busy_timeout=0.2), token=YT_KEY, record=True
        )
    finally:
        holder.communicate("")
    assert check.token == YT_KEY and check.warnings == []
    assert "token checks kept as notes" in caplog.text and "is busy" in caplog.text
    (state,) = token_states(settings)
    assert state.never_expires and state.variable == "INGEST_YOUTUBE_API_KEY"
    assert record_notes(settings) == 1
    assert YT_KEY not in caplog.text


def test_the_dag_pull_needs_no_access_token_when_it_can_refresh_one(
    snapchat, settings, monkeypatch, caplog
):
    api, url = snapchat
    assert isinstance(api, FakeSnapchat)
    oauth = OAuthEndpoint(
        api, client_id=SNAP_ID, client_secret=SNAP_SECRET, refresh_token=SNAP_REFRESH
    )
    api.oauth = oauth
    monkeypatch.setenv("INGEST_SNAPCHAT_REFRESH_TOKEN", SNAP_REFRESH)
    monkeypatch.setenv("INGEST_SNAPCHAT_CLIENT_ID", SNAP_ID)
    monkeypatch.setenv("INGEST_SNAPCHAT_CLIENT_SECRET", SNAP_SECRET)
    profile = next(iter(api.profiles))
    result = runs.pull_platform_day("snapchat", DAY, settings, base_url=url, accounts=[profile])
    assert result.get("skipped") is not True and result["ok"], result
    assert len(oauth.issued) == 1 and api.calls("/stats")
    assert all(r.bearer == oauth.issued[0] for r in api.requests if "oauth2" not in r.path)
    assert (
        leaks(settings, [SNAP_REFRESH, SNAP_SECRET, *oauth.issued], caplog.text, str(result)) == []
    )
