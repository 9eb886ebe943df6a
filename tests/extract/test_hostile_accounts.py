"""Handles and account ids are checked where they enter a request or a file name.

An Instagram handle is pasted into a Graph API field expression, a YouTube id list is joined
with commas, a Snapchat id becomes a path segment: a value that is not a handle or id of its
platform is refused, naming it, and no request carries it. The other accounts still run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.extract import pull
from ingest.pull_state import safe_name
from tests.extract.conftest import IG_TOKEN, SNAP_TOKEN, TT_TOKEN, YT_KEY, options
from tests.extract.fakes import DAY, FakeApi

HOSTILE = {
    "instagram": [
        # would ask for creator_1's counts under creator_0's name
        "creator_0){id},business_discovery.username(creator_1){followers_count",
        "creator_1)",
        "../../creator_1",
        "creator 1",
    ],
    "tiktok": ['creator_1","x', "../creator_1", "creator 1"],
    "youtube": ["@channel1&part=id", "../../channel1", "channel1,UC" + "x" * 22],
    "snapchat": ["../v1/public_profiles/x", "4e1c7a52?x=1", "a/b", "x" * 65],
}
GOOD = {"instagram": "creator_0", "tiktok": "creator_0", "youtube": None, "snapchat": None}
TOKENS = {"instagram": IG_TOKEN, "tiktok": TT_TOKEN, "youtube": YT_KEY, "snapchat": SNAP_TOKEN}


def sent(api: FakeApi) -> list[str]:
    """Every request the fake received, as text: path, query and body."""
    return [f"{r.method} {r.path} {json.dumps(r.query)} {json.dumps(r.body)}" for r in api.requests]


def fragment(value: str) -> str:
    # the part of a hostile value a request would carry (whatever its encoding)
    return max(re.split(r"[^A-Za-z0-9_]+", value), key=len)


@pytest.mark.parametrize("platform", list(HOSTILE))
def test_a_hostile_handle_or_id_is_refused_before_any_request(platform, request, settings, sleeps):
    api, url = request.getfixturevalue(platform)
    good = GOOD[platform] or next(
        iter(api.channels if platform == "youtube" else api.profiles)  # type: ignore[attr-defined]
    )
    hostile = HOSTILE[platform]
    summary = pull(
        platform,
        DAY,
        settings,
        accounts=[good, *hostile],
        base_url=url,
        load=False,
        options=options(TOKENS[platform], sleeps),
    )
    assert summary.accounts == 1 + len(hostile)
    assert summary.accounts_complete == 1, str(summary)  # the good account ran
    assert summary.pages_fetched >= 1
    errors = "\n".join(summary.errors)
    for value in hostile:
        assert repr(value.lstrip("@")) in errors or repr(value) in errors, (value, errors)
    assert "refused before any request" in errors
    asked = "\n".join(sent(api))
    for value in hostile:
        if value.lstrip("@") != value:
            value = value.lstrip("@")
        piece = value if platform != "snapchat" else value.split("/")[-1].split("?")[0]
        assert value not in asked
        assert piece not in asked or piece in str(good), (value, piece)
    # nothing named after a hostile value leaves the landing zone's folders
    for path in settings.landing.rglob("*"):
        assert path.resolve().is_relative_to(settings.landing.resolve()), path


def test_a_hostile_youtube_id_in_a_creators_mapping_fails_its_account_alone(
    youtube, settings, sleeps, tmp_path
):
    api, url = youtube
    good = list(api.channels)
    hostile = f"{good[0]},{good[1]}"  # a comma would ask for two channels under one name
    mapping = tmp_path / "creators.csv"
    mapping.write_text(
        "creator_id,platform,account_id,handle\n"
        f'c0,youtube,{good[0]},\nc1,youtube,{good[2]},\nc2,youtube,"{hostile}",\n',
        encoding="utf-8",
    )
    summary = pull(
        "youtube",
        DAY,
        settings,
        creators=mapping,
        base_url=url,
        load=False,
        options=options(YT_KEY, sleeps),
    )
    assert summary.accounts == 3 and summary.accounts_complete == 2, str(summary)
    assert any(repr(hostile) in e and "channel id" in e for e in summary.errors), summary.errors
    asked = [r.query.get("id", "") for r in api.calls("channels")]
    assert asked and all(hostile not in ids and good[1] not in ids for ids in asked)


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "/abs/path", ".hidden", "a/b\\c", "x" * 300, "creator_0)", "ü", ".."],
)
def test_an_account_key_becomes_a_plain_file_name(key, tmp_path: Path):
    name = safe_name(key)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert len(name) <= 100
    assert (tmp_path / f"{name}.json").resolve().parent == tmp_path.resolve()
    # different keys keep different files
    assert safe_name(key + "!") != name
