"""Interrupted pulls resume without duplicates; tokens never reach logs, errors or landing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from ingest import cli
from ingest.extract import pull
from ingest.redaction import redact
from tests.extract.conftest import (
    IG_TOKEN,
    YT_KEY,
    landed_pages,
    loads_per_page,
    options,
    query,
    state_files,
)
from tests.extract.fakes import DAY, Fault

ACCOUNTS = ["creator_0", "creator_1", "creator_2"]


def _page_key(request) -> tuple[str, str]:
    fields = request.query.get("fields", "")
    user = fields.split("username(", 1)[-1].split(")", 1)[0]
    after = fields.split("media.after(", 1)[1].split(")", 1)[0] if "media.after(" in fields else ""
    return user, after


def test_connection_dropped_mid_pagination_resumes_without_refetching(instagram, settings, sleeps):
    api, url = instagram
    # creator_1's third page: the server hangs up, every time, until the fault is cleared
    third = api.accounts["creator_1"]["media"]
    api.inject(
        Fault(drop=True),
        when=lambda r: _page_key(r)[0] == "creator_1" and _page_key(r)[1] == api._encode(3, True),
        times=-1,
    )
    first = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert not first.ok and len(first.errors) == 1
    assert "creator_1" in first.errors[0] and "after 4 attempts" in first.errors[0]
    assert first.accounts_complete == 2  # the others were not held up
    # what was landed (creator_1's first two pages) is already loaded
    partial = query(
        settings,
        "select count(*) from core.post_daily where account_id = '17841400000000001'",
    )
    assert partial == [(3,)]
    state = state_files(settings, "instagram")[f"{DAY}/creator_1.json"]
    assert state["streams"]["business_discovery"]["pages"] == 2 and not state["complete"]

    api.clear()
    second = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert second.ok, str(second)
    assert second.pages_fetched == 3  # creator_1's pages 3 to 5, nothing else
    answered = Counter(_page_key(r) for r in api.calls("/v21.0/1784") if r is not None)
    failed = ("creator_1", api._encode(3, True))
    assert answered.pop(failed) == 5  # four tries, then once more on the rerun
    assert set(answered.values()) == {1}  # every other page was asked exactly once
    rows = query(settings, "select account_id, post_id from core.post_daily")
    assert len(rows) == len(set(rows)) == sum(len(a["media"]) for a in api.accounts.values())
    assert len(rows) == 7 + 8 + 9 and len(third) == 8
    assert set(loads_per_page(settings, "instagram").values()) == {1}


def test_transient_faults_are_retried_transparently(youtube, settings, sleeps):
    api, url = youtube
    ids = list(api.channels)
    api.inject(Fault(drop=True), when=lambda r: "playlistItems" in r.path)
    api.inject(Fault(truncate=True), when=lambda r: "videos" in r.path)
    api.inject(Fault(delay=1.5, status=200), when=lambda r: "channels" in r.path)
    api.inject(Fault(502, b"<html>Bad Gateway</html>"), when=lambda r: "playlistItems" in r.path)
    api.inject(Fault(503, {}, {"Retry-After": "1"}), when=lambda r: "videos" in r.path)
    summary = pull(
        "youtube",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        load=False,
        options=options(YT_KEY, sleeps, page_size=4),
    )
    assert summary.ok, str(summary)
    assert len(sleeps) == 5 and 1.0 in sleeps
    assert summary.pages_fetched == 1 + (2 + 1) + (3 + 1) + (3 + 1)
    assert summary.requests == summary.pages_fetched + 5


@pytest.mark.volume_audit
def test_short_pages_blocked_by_the_volume_audit_stay_pending(instagram, settings, sleeps):
    """The batch-volume audit blocks short API pages; the pull says so and keeps them."""
    _, url = instagram
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    pages = state_files(settings, "instagram")[f"{DAY}/_pages.json"]["pages"]
    pending = [p for p in pages.values() if not p["loaded"]]
    if summary.ok:
        # the audit accepted every page: nothing may be left behind
        assert not pending
    else:
        assert any("audit" in e or "failed" in e for e in summary.errors)
        assert pending and f"{len(pending)} landed page(s) are not loaded yet" in summary.errors


def test_no_token_appears_in_logs_errors_manifests_or_tables(
    youtube, instagram, settings, sleeps, caplog, capsys, monkeypatch
):
    caplog.set_level("DEBUG")
    yt, yt_url = youtube
    ig, ig_url = instagram
    ids = list(yt.channels)
    yt.inject(
        Fault(500, {"error": {"code": 500, "message": f"backend saw key={YT_KEY}"}}),
        when=lambda r: "playlistItems" in r.path,
    )
    yt.inject(Fault(drop=True), when=lambda r: "videos" in r.path, times=-1)
    yt.inject(Fault(429, {}, {"Retry-After": "0"}), when=lambda r: "channels" in r.path)
    monkeypatch.setenv("INGEST_YOUTUBE_API_KEY", YT_KEY)
    monkeypatch.setenv("INGEST_HTTP_BASE_DELAY", "0.001")
    monkeypatch.setenv("INGEST_HTTP_MAX_ATTEMPTS", "3")
    code = cli.main(
        [
            "pull",
            "--platform",
            "youtube",
            # today: the CLI pull runs on the real clock, and a snapshot is only taken for the
            # day it is observed on
            "--date",
            str(datetime.now(UTC).date()),
            "--accounts",
            ",".join(ids),
            "--base-url",
            yt_url,
            "--warehouse",
            str(settings.warehouse),
        ]
    )
    assert code == 1
    # instagram echoes its token in paging.next; one account also meets an expired-token error
    ig.inject(
        Fault(400, {"error": {"message": f"Invalid OAuth access token {IG_TOKEN}", "code": 190}}),
        when=lambda r: "creator_2" in r.query.get("fields", ""),
    )
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=ig_url,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    print(summary)
    assert not summary.ok
    out = capsys.readouterr()
    texts = [caplog.text, out.out, out.err, "\n".join(summary.errors)]
    texts += [r.getMessage() for r in caplog.records]
    for root in (settings.landing, settings.staging):
        texts += [p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file()]
    for table in ("meta.loads", "quarantine.rows", "core.posts", "core.accounts"):
        texts.append(json.dumps(query(settings, f"select * from {table}"), default=str))
    blob = "\n".join(texts)
    assert "playlistItems" in blob and "connection failed" in blob and "190" in blob
    assert YT_KEY not in blob and IG_TOKEN not in blob
    # and the landed pages are the served bytes apart from the masked token
    ig_pages = landed_pages(settings, "instagram")
    assert any(b"access_token=***" in p.read_bytes() for p in ig_pages)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("GET /x?part=a&key=AIzaSECRETkey123&pageToken=P4", "GET /x?part=a&key=***&pageToken=P4"),
        (
            "next: https://g/x?access_token=EAAGabc.def&limit=3",
            "next: https://g/x?access_token=***&limit=3",
        ),
        ("{'Authorization': 'Bearer clt.abcdef123'}", "{'Authorization': '***'}"),
        ("Authorization: OAuth EAAGxyz123456", "Authorization: ***"),
        ("monkey=banana", "monkey=banana"),
    ],
)
def test_redact(text, shown):
    assert redact(text) == shown
