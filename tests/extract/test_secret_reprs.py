"""No object that holds a token shows it in its repr or str (logs, tracebacks, Airflow's UI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from ingest import platforms
from ingest.extract import PullOptions
from ingest.http import Credential, HttpClient
from ingest.platforms.instagram.api import InstagramClient
from ingest.platforms.snapchat.api import SnapchatClient
from ingest.platforms.tiktok.api import DisplayClient, ResearchClient
from ingest.platforms.youtube.api import YouTubeClient
from ingest.settings import read_platform

# fresh per object: a value registered by another test would be masked by redact() alone
TOKEN = "reprSECRETtoken{}0123456789abcdef"


def shown(thing: object) -> str:
    return f"{thing!r} {thing!s} {[thing]!r} { ({'k': thing})!r}"


def test_pull_options_never_show_the_token():
    token = TOKEN.format("options")
    options = PullOptions(token=token, snapshot_grace=timedelta(hours=6))
    text = shown(options)
    assert token not in text
    # the rest is still there to read, and the token's presence is told
    assert "token='***'" in text and "lookback_days=30" in text
    assert "token=None" in repr(replace(options, token=None))


@pytest.mark.parametrize("platform", platforms.names())
def test_options_read_from_the_environment_never_show_the_token(platform, monkeypatch):
    token = TOKEN.format(platform)
    declared = platforms.get(platform)
    assert declared.token_env
    monkeypatch.setenv(declared.token_env, token)
    options = PullOptions.from_env(platform)
    assert options.token == token
    assert token not in shown(options)
    own = read_platform(declared)
    assert own.secret_token() == token
    assert token not in shown(own) and token not in shown(own.options())


CLIENTS: dict[str, Callable[[str], object]] = {
    "instagram": lambda t: InstagramClient(t, base_url="http://127.0.0.1:9"),
    "youtube": lambda t: YouTubeClient(t, base_url="http://127.0.0.1:9"),
    "tiktok research": lambda t: ResearchClient(t, base_url="http://127.0.0.1:9"),
    "tiktok display": lambda t: DisplayClient(t, base_url="http://127.0.0.1:9"),
    "snapchat": lambda t: SnapchatClient(t, base_url="http://127.0.0.1:9"),
}


@pytest.mark.parametrize("name", CLIENTS)
def test_api_clients_and_their_parts_never_show_the_token(name):
    token = TOKEN.format(name.replace(" ", ""))
    client = CLIENTS[name](token)
    try:
        parts = [client, client.credential, client.http, client.http.session.headers]  # type: ignore[attr-defined]
        for part in parts:
            assert token not in shown(part), part
    finally:
        client.close()  # type: ignore[attr-defined]


def test_a_credential_shows_where_it_comes_from_not_what_it_is():
    token = TOKEN.format("credential")
    credential = Credential("instagram", token, "instagram_default", "INGEST_INSTAGRAM_TOKEN")
    assert token not in shown(credential)
    assert "instagram_default" in repr(credential)
    http = HttpClient(credential, "http://127.0.0.1:9")
    try:
        assert token not in shown(http)
    finally:
        http.close()
