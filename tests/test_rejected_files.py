"""A bad file is that file's problem only: rejected with its reason, recorded once."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest import cli
from ingest.coerce import CoercionError, to_count, to_date, to_display_date, to_utc_timestamp
from ingest.config import Settings
from ingest.errors import IngestError
from ingest.parsing import Format, Item, Note, ParseContext, Sample
from ingest.platforms import names as platform_names
from ingest.platforms import registry
from ingest.runs import (
    check_summary,
    publish_day,
    refresh_marts,
    stage_platform_day,
)
from tests.conftest import FIXTURES

DAY = date(2026, 9, 1)
CHANNEL = "UCgoodChannel00000000001"
STUDIO_ZIP = FIXTURES / "youtube" / "Content 2026-08-04_2026-08-31 Rounded Micro.zip"
POISONED_NAME = "Content 2026-09-01_2026-09-31 Studio.zip"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


def drop(
    inbox: Path, platform: str, source: Path, name: str | None = None, *, under: str = ""
) -> Path:
    folder = inbox / platform / DAY.isoformat() / under
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or source.name)
    shutil.copyfile(source, target)
    return target


def run(settings: Settings, inbox: Path, *extra: str) -> int:
    return cli.main(
        [
            "run",
            "--date",
            DAY.isoformat(),
            "--inbox",
            str(inbox),
            "--warehouse",
            str(settings.warehouse),
            *extra,
        ]
    )


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def loads(settings: Settings) -> list[tuple]:
    return query(
        settings,
        "select platform, format, status, parser_version from meta.loads order by all",
    )


def test_a_studio_export_named_with_an_impossible_window_is_rejected_and_the_day_publishes(
    settings: Settings, inbox: Path, capsys: pytest.CaptureFixture[str]
):
    drop(inbox, "youtube", STUDIO_ZIP, POISONED_NAME, under="UCstudio0000000000000001")
    drop(inbox, "youtube", FIXTURES / "youtube" / "channels_list.json")

    assert run(settings, inbox) == 1
    out = capsys.readouterr().out
    assert "internal error" not in out
    assert re.search(r"rejected .*Content 2026-09-01_2026-09-31 Studio\.zip.*2026-09-31", out)
    # the good file of the day is published, its marts and BI copy built
    assert query(settings, "select count(*) from core.account_daily")[0][0] > 0
    with duckdb.connect(str(settings.bi_warehouse), read_only=True) as bi:
        assert bi.execute("select count(*) from marts.creator_tier_daily").fetchone()[0] > 0
        assert (
            bi.execute("select count(*) from meta.loads where status = 'rejected'").fetchone()[0]
            == 1
        )
    [(message,)] = query(settings, "select message from meta.loads where status = 'rejected'")
    assert POISONED_NAME in message and "not real" in message


def test_a_tiktok_count_of_5000_digits_is_quarantined_with_its_reason(
    settings: Settings, inbox: Path, tmp_path: Path
):
    page = (FIXTURES / "tiktok" / "research_video_query.json").read_text()
    huge, n = re.subn(r'"view_count":\s*\d+', '"view_count": ' + "7" * 5000, page, count=1)
    assert n == 1
    (tmp_path / "video_query.json").write_text(huge)
    drop(inbox, "tiktok", tmp_path / "video_query.json")

    assert run(settings, inbox) == 0
    [(_, reason)] = query(
        settings, "select field, reason from quarantine.rows where field = 'view_count'"
    )
    assert "5000 digits" in reason and "64 bits" in reason
    assert query(settings, "select status from meta.loads") == [("published",)]


@pytest.mark.parametrize(
    ("convert", "value", "reason"),
    [
        (to_count, "7" * 5000, "5000 digits"),
        (to_count, "1" * 20, "does not fit in 64 bits"),
        (to_count, "\u0663\u0664\u0665", "ASCII digits"),  # Arabic-Indic 345
        (to_count, "\uff11\uff12", "ASCII digits"),  # fullwidth 12
        (to_count, "1,\u0662\u0663\u0664", "ASCII digits"),
        (to_count, float("nan"), "whole count"),
        (to_count, float("inf"), "whole count"),
        (to_count, "NaN", "expected a count"),
        (to_count, "Infinity", "expected a count"),
        (to_utc_timestamp, "9" * 5000, "out of range"),
        (to_utc_timestamp, "\u0661\u0667\u0668\u0667", "ASCII digits"),
        (to_date, "2026-09-31", "expected a date"),
        (to_date, "\u0662\u0660\u0662\u0666-09-01", "ASCII digits"),
        (to_display_date, "Sep \u0662\u0662, 2026", "ASCII digits"),
    ],
)
def test_unusable_values_are_refused_with_a_reason(convert, value, reason):
    with pytest.raises(CoercionError, match=reason):
        convert(value)


# a format known only to these tests, whose parser fails the way a bug would
BROKEN = {"parser": True}


def _boom_parse(path: Path, ctx: ParseContext) -> Iterator[Item]:
    if BROKEN["parser"]:
        raise ZeroDivisionError("division by zero")
    yield Note("read fine")


def _boom_sniff(sample: Sample) -> bool:
    return sample.name.endswith(".boom")


@pytest.fixture
def boom_format() -> Iterator[list[Format]]:
    """Register a YouTube format ``boom`` at the head of the registries; the list allows bumps."""
    registries = [registry(("youtube",)), registry(platform_names())]
    current = [Format("youtube", "boom", _boom_parse, _boom_sniff)]
    for reg in registries:
        reg.formats.insert(0, current[0])
    BROKEN["parser"] = True
    yield current
    for reg in registries:
        reg.formats[:] = [f for f in reg.formats if f.name != "boom"]


def _bump(current: list[Format], version: int) -> None:
    bumped = Format("youtube", "boom", _boom_parse, _boom_sniff, version=version)
    for reg in (registry(("youtube",)), registry(platform_names())):
        reg.formats[reg.formats.index(current[0])] = bumped
    current[0] = bumped


def test_any_exception_in_a_parser_rejects_only_that_file_and_replays_skip_it(
    settings: Settings, inbox: Path, tmp_path: Path, boom_format: list[Format], capsys
):
    (tmp_path / "page.boom").write_text("anything")
    drop(inbox, "youtube", tmp_path / "page.boom")
    drop(inbox, "youtube", FIXTURES / "youtube" / "channels_list.json")

    assert run(settings, inbox) == 1
    out = capsys.readouterr().out
    assert "youtube/2026-09-01/page.boom: cannot be read (ZeroDivisionError" in out
    assert loads(settings) == [
        ("youtube", "boom", "rejected", "1.1"),
        ("youtube", "channels_list", "published", "1.1"),
    ]
    first = query(settings, "select * from meta.loads order by all")

    # a replay of the day skips the file: nothing new recorded, nothing failed
    assert run(settings, inbox) == 0
    assert "skipped: youtube: youtube/2026-09-01/page.boom" in capsys.readouterr().out
    assert query(settings, "select * from meta.loads order by all") == first

    # fixed without a new parser version: still skipped until asked
    BROKEN["parser"] = False
    assert run(settings, inbox) == 0
    assert query(settings, "select * from meta.loads order by all") == first
    assert run(settings, inbox, "--retry-rejected") == 0
    assert loads(settings) == [
        ("youtube", "boom", "published", "1.1"),
        ("youtube", "boom", "rejected", "1.1"),
        ("youtube", "channels_list", "published", "1.1"),
    ]


def test_retry_rejected_reports_a_file_that_still_fails_without_recording_it_twice(
    settings: Settings, inbox: Path, tmp_path: Path, boom_format: list[Format], capsys
):
    (tmp_path / "page.boom").write_text("anything")
    drop(inbox, "youtube", tmp_path / "page.boom")
    assert run(settings, inbox) == 1
    assert run(settings, inbox, "--retry-rejected") == 1
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert loads(settings) == [("youtube", "boom", "rejected", "1.1")]


def test_a_new_parser_version_tries_a_rejected_file_again_by_itself(
    settings: Settings, inbox: Path, tmp_path: Path, boom_format: list[Format]
):
    (tmp_path / "page.boom").write_text("anything")
    drop(inbox, "youtube", tmp_path / "page.boom")
    assert run(settings, inbox) == 1
    _bump(boom_format, 2)
    # still broken under version 2: a new rejection, recorded with the version that made it
    assert run(settings, inbox) == 1
    assert loads(settings) == [
        ("youtube", "boom", "rejected", "1.1"),
        ("youtube", "boom", "rejected", "1.2"),
    ]
    BROKEN["parser"] = False
    _bump(boom_format, 3)
    assert run(settings, inbox) == 0
    assert ("youtube", "boom", "published", "1.3") in loads(settings)


def test_the_nightly_check_fails_on_new_rejections_only_after_the_good_data_is_published(
    settings: Settings, inbox: Path
):
    """The DAG's stage, publish, marts, BI and check tasks call exactly these functions."""
    drop(inbox, "youtube", STUDIO_ZIP, POISONED_NAME, under="UCstudio0000000000000001")
    drop(inbox, "youtube", FIXTURES / "youtube" / "channels_list.json")

    def nightly() -> None:
        staged = [
            stage_platform_day(p, DAY, settings, inbox=inbox).to_dict() for p in platform_names()
        ]
        # staged days travel as XComs: plain JSON
        staged = json.loads(json.dumps(staged))
        summary = publish_day(DAY, staged, settings).to_dict()
        marts = refresh_marts(settings)
        assert marts["passed"], marts
        check_summary(summary, marts)

    with pytest.raises(IngestError, match=re.escape(POISONED_NAME)) as failed:
        nightly()
    assert "1 failure(s)" in str(failed.value)
    with duckdb.connect(str(settings.bi_warehouse), read_only=True) as bi:
        assert bi.execute("select count(*) from marts.creator_tier_daily").fetchone()[0] > 0
    # the next night (or a rerun of this one) knows the file: nothing new, the check passes
    nightly()


def test_a_file_of_no_known_format_in_the_inbox_is_rejected_once(
    settings: Settings, inbox: Path, tmp_path: Path, capsys
):
    (tmp_path / "notes.txt").write_text("not an export\n")
    drop(inbox, "youtube", tmp_path / "notes.txt")
    drop(inbox, "youtube", FIXTURES / "youtube" / "channels_list.json")
    assert run(settings, inbox) == 1
    assert "youtube/2026-09-01/notes.txt: not a recognised youtube export" in (
        capsys.readouterr().out
    )
    assert run(settings, inbox) == 0
    assert query(settings, "select format, status from meta.loads order by all") == [
        ("channels_list", "published"),
        (None, "rejected"),
    ]


def test_the_notes_folder_is_listed_again_when_it_changes_or_changed_just_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from ingest import rejections

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    assert rejections._noted(folder) == {"a"}
    # changed just now: a note of the same clock tick would not change the folder's time
    (folder / "b.json").write_text("{}")
    assert rejections._noted(folder) == {"a", "b"}
    # a settled folder's listing is kept while the folder's time stays...
    monkeypatch.setattr(rejections, "SETTLED_NS", 0)
    assert rejections._noted(folder) == {"a", "b"}
    listed = os.stat(folder).st_mtime_ns
    (folder / "c.json").write_text("{}")
    os.utime(folder, ns=(listed, listed))
    assert rejections._noted(folder) == {"a", "b"}
    # ...and listed again once it changes
    os.utime(folder, ns=(listed + 1_000_000_000, listed + 1_000_000_000))
    assert rejections._noted(folder) == {"a", "b", "c"}
    assert rejections._noted(tmp_path / "none") == frozenset()
