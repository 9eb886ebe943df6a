"""The volume gate compares a delivery only with earlier deliveries of the same accounts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.delivery_accounts import FILES_PER_READ, staged_accounts
from ingest.parsing import SHARED_LOAD_COLUMN, SHARED_ROW_COLUMN, StagedEntity
from ingest.pipeline import load_files
from tests.validation.helpers import DAY, channel, query, video, write_channels, write_videos

# the official Graph API sample: one account, no media
BUSINESS_DISCOVERY_SAMPLE = {
    "business_discovery": {
        "followers_count": 267793,
        "media_count": 1205,
        "id": "17841401441775531",
    },
    "id": "17841405309211844",
}


def _business_discovery(path: Path, account: str, media: int) -> Path:
    items = [
        {
            "id": f"{account}{n:04d}",
            "caption": f"post {n}",
            "media_type": "IMAGE",
            "media_product_type": "FEED",
            "timestamp": "2026-08-20T10:00:00+0000",
            "like_count": 100 + n,
            "comments_count": 3,
            "permalink": f"https://www.instagram.com/p/{account}{n}/",
        }
        for n in range(media)
    ]
    doc = {
        "business_discovery": {
            "username": f"creator{account[-4:]}",
            "id": account,
            "followers_count": 20_000,
            "media_count": media,
            "media": {"data": items},
        },
        "id": "17841405309211844",
    }
    path.write_text(json.dumps(doc))
    return path


def _videos(path: Path, channels: list[str], per_channel: int) -> Path:
    return write_videos(
        path,
        [video(f"v{c[-6:]}{n:03d}", c) for c in channels for n in range(per_channel)],
    )


def _load(path: Path, settings, days_before: int = 0) -> str:
    # earlier deliveries go to earlier days: the same bytes again on the same day are a replay,
    # reported unchanged, and no delivery
    [result] = load_files([path], settings, day=DAY - timedelta(days=days_before))
    return result.status


def _volume_failure(settings, status: str = "failed") -> str:
    [(observed,)] = query(
        settings,
        "select v.observed_value from meta.validations v join meta.loads l using (load_id)"
        " where l.status = $status and v.suite = 'batch_volume' and v.severity = 'critical'"
        " and not v.success",
        {"status": status},
    )
    return str(observed)


def test_a_page_of_new_channels_is_not_a_drop_from_other_channels(settings, tmp_path, gx_session):
    known = [f"UCknown{i:017d}" for i in range(40)]
    page = write_channels(tmp_path / "known.json", [channel(c) for c in known])
    for n in range(5):
        assert _load(page, settings, 5 - n) == "published"

    new = write_channels(
        tmp_path / "new.json", [channel(f"UCnew{i:019d}", "7000") for i in range(3)]
    )
    assert _load(new, settings) == "published"
    [(observed,)] = query(
        settings,
        "select observed_value from meta.validations v join meta.loads l using (load_id)"
        " where l.source_file like '%new.json' and v.suite = 'batch_volume'"
        " and v.severity = 'critical'",
    )
    assert "0 earlier deliveries" in observed


def test_one_account_with_no_media_is_not_a_drop_from_other_accounts(
    settings, tmp_path, gx_session
):
    for n in range(4):
        account = f"1784140000000{n:04d}"
        history = _business_discovery(tmp_path / f"bd{n}.json", account, media=60)
        for k in range(3):
            assert _load(history, settings, 3 - k) == "published"

    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(BUSINESS_DISCOVERY_SAMPLE))
    assert _load(sample, settings) == "published"
    assert query(
        settings,
        "select followers from core.account_daily where account_id = '17841401441775531'",
    ) == [(267793,)]


def test_the_same_accounts_returning_far_fewer_rows_still_fail(settings, tmp_path, gx_session):
    big = [f"UCbig{i:019d}" for i in range(6)]
    small = [f"UCsmall{i:017d}" for i in range(4)]
    usual = _videos(tmp_path / "big.json", big, per_channel=5)  # 30 videos
    others = _videos(tmp_path / "small.json", small, per_channel=4)  # 16 videos
    earlier = (others, others, others, usual, usual, usual, others, others, others)
    for n, path in enumerate(earlier):
        assert _load(path, settings, len(earlier) - n) == "published"

    # 12 of the usual 30: pooled with the other channels' 16-video deliveries this passed
    dropped = _videos(tmp_path / "dropped.json", big, per_channel=2)
    assert _load(dropped, settings) == "failed"
    assert _volume_failure(settings).startswith("12 rows vs median 30 of the last 3 deliveries")


@pytest.mark.parametrize("files_per_read", [1, 2, FILES_PER_READ])
def test_the_accounts_of_a_delivery_are_the_same_read_in_pieces(
    tmp_path: Path, files_per_read: int
) -> None:
    # files of different entities (other columns) and a file without the account column
    tables = {
        "a": {"post_id": ["p1", "p2"], "account_id": ["acc2", "acc1"], "views": [1, 2]},
        "b": {"account_id": ["acc3", None], "followers": [10, 20]},
        "c": {"post_id": ["p3"], "account_id": ["acc1"]},
        "d": {"post_id": ["p4"], "caption": ["no account here"]},
        "e": {"account_id": ["acc4"], "day": ["2026-09-01"]},
    }
    batches = []
    for name, columns in tables.items():
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table(columns), path)
        rows = len(next(iter(columns.values())))
        entity = StagedEntity(name, str(path), list(columns), rows=rows)
        batches.append(SimpleNamespace(load_id=f"load-{name}", entities={name: entity}))
    # a staging pass's shared file: only the rows of the loads given count (acc6's is not)
    shared = tmp_path / "posts.0.parquet"
    pq.write_table(
        pa.table(
            {
                "post_id": ["p5", "p6", "p7"],
                "account_id": ["acc5", "acc6", "acc5"],
                SHARED_LOAD_COLUMN: ["s1", "s2", "s3"],
                SHARED_ROW_COLUMN: [0, 0, 0],
            }
        ),
        shared,
    )
    for load_id in ("s1", "s3"):
        entity = StagedEntity("posts", str(shared), ["post_id", "account_id"], 1, shared=True)
        batches.append(SimpleNamespace(load_id=load_id, entities={"posts": entity}))
    conn = duckdb.connect()
    try:
        found = staged_accounts(conn, batches, files_per_read=files_per_read)  # type: ignore[arg-type]
    finally:
        conn.close()
    assert found == ["acc1", "acc2", "acc3", "acc4", "acc5"]
