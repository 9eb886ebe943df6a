"""Hostile inputs through the real console script: refused with a clear message, in bounded memory.

Each case runs ``ingest load`` in a fresh wrapper process that caps the address space (so a
regression fails the test instead of taking the machine down) and reports the peak resident
set of its one child (``ru_maxrss`` of ``RUSAGE_CHILDREN``, counted only after the wait).
The inputs are built compactly at test time: a 600 MiB member is one compressed megabyte
repeated, so its archive is 3.3 MiB, like the "Download your information" zip of the issue.
Peak RSS of a load that publishes includes the audit (Great Expectations): about 380 MiB for
a one-row file.
"""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import duckdb
import pytest

from ingest.archives import DEFAULT_LIMITS
from ingest.jsonstream import MAX_SPAN
from ingest.limits import JSON_DOCUMENT_LIMIT

from .harness import INGEST

MiB = 1024 * 1024
PEAK_RSS_LIMIT = 512 * MiB
# DuckDB's allocator reserves address space beyond what it touches: 2 GiB stops a plain load
ADDRESS_SPACE_CAP = 3 * 1024 * MiB

_WRAPPER = textwrap.dedent(
    """
    import json, resource, subprocess, sys

    cap = int(sys.argv[1])

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    done = subprocess.run(sys.argv[2:], preexec_fn=limit, capture_output=True, text=True)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"status": done.returncode, "stdout": done.stdout,
                      "stderr": done.stderr, "peak_rss": peak_kib * 1024}))
    """
)


def load_in_child(tmp_path: Path, *args: str) -> dict[str, object]:
    """``ingest load ARGS`` in a fresh process; its status, output and peak RSS in bytes."""
    command = [str(INGEST), "load", *args, "--warehouse", str(tmp_path / "w.duckdb")]
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(ADDRESS_SPACE_CAP), *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        # the landing zone and staging go beside the warehouse, whatever the caller's setup
        env={k: v for k, v in os.environ.items() if not k.startswith("INGEST_")},
        timeout=600,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> None:
    """A zip from already deflated members: (name, deflated bytes, method, crc, size)."""
    directory = bytearray()
    with path.open("wb") as out:
        for name, data, method, crc, size in members:
            offset = out.tell()
            encoded = name.encode()
            fields = (20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
            out.write(b"PK\x03\x04" + struct.pack("<5H3L2H", *fields) + encoded)
            out.write(data)
            directory += (
                b"PK\x01\x02"
                + struct.pack(
                    "<6H3L5H2L",
                    20,
                    20,
                    0,
                    method,
                    0,
                    0x21,
                    crc,
                    len(data),
                    size,
                    len(encoded),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + encoded
            )
        start = out.tell()
        out.write(directory)
        count = len(members)
        if count > 0xFFFF:
            # a zip64 end record and its locator hold the count the classic record cannot
            end64 = out.tell()
            out.write(
                b"PK\x06\x06"
                + struct.pack("<Q2H2L4Q", 44, 45, 45, 0, 0, count, count, len(directory), start)
            )
            out.write(b"PK\x06\x07" + struct.pack("<LQL", 0, end64, 1))
            count = 0xFFFF
        out.write(
            b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, count, count, len(directory), start, 0)
        )


def repeated_member(head: bytes, block: bytes, repeats: int, tail: bytes) -> tuple[bytes, int, int]:
    """A deflated member ``head + block * repeats + tail``: (deflated bytes, crc, size).

    Each part is deflated once with a full flush (a self-contained piece of a deflate stream)
    and the block's piece repeated, so a member of hundreds of megabytes costs a second.
    """
    pieces: list[bytes] = []
    crc = size = 0
    for part, times in ((head, 1), (block, repeats), (tail, 1)):
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        pieces.append((deflater.compress(part) + deflater.flush(zlib.Z_FULL_FLUSH)) * times)
        for _ in range(times):
            crc = zlib.crc32(part, crc)
        size += len(part) * times
    pieces.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # the final empty block
    return b"".join(pieces), crc, size


FOLLOWERS_MEMBER = "connections/followers_and_following/followers_1.json"


def followers_bomb(path: Path, size: int = 600 * MiB) -> tuple[int, int]:
    """A DYI zip whose followers list expands about 180 times, inside the zip-bomb ratio.

    Returns the member's size and its number of followers.
    """
    rng = random.Random(14)
    entry = (
        '{"title":"","media_list_data":[],"string_list_data":[{"href":'
        '"https://www.instagram.com/u%s","value":"u%s","timestamp":1700000000}]},'
    )
    block = bytearray()
    entries = 0
    while len(block) < MiB:
        letter = rng.choice("ab")
        block += (entry % (letter, letter)).encode()
        entries += 1
    repeats = (size - 4) // len(block)
    data, crc, total = repeated_member(b"[", bytes(block), repeats, b"{}]")
    _write_zip(path, [(FOLLOWERS_MEMBER, data, 8, crc, total)])
    return total, entries * repeats + 1


def string_bomb(path: Path, size: int = 600 * MiB) -> int:
    """A DYI zip whose followers file is one string of ``size`` bytes, inside the ratio."""
    rng = random.Random(14)
    block = bytearray(b"a" * MiB)
    for at in range(0, MiB, 300):
        block[min(at + rng.randrange(300), MiB - 1)] = ord("b")
    data, crc, total = repeated_member(b'["', bytes(block), size // MiB, b'"]')
    _write_zip(path, [(FOLLOWERS_MEMBER, data, 8, crc, total)])
    return total


def crowded_zip(path: Path, entries: int) -> None:
    """A zip of ``entries`` empty stored members, none of them a known export file."""
    _write_zip(path, [(f"n/{i}.txt", b"", 0, 0, 0) for i in range(entries)])


_YOUTUBE_VIDEO = (
    '{"kind":"youtube#video","id":"dQw4w9WgXcQ","snippet":{"channelId":'
    '"UC_x5XG1OV2P6uZZ5FSM9Ttw","title":"t","publishedAt":"2026-11-01T00:00:00Z"},'
    '"statistics":{"viewCount":"1","likeCount":"1","commentCount":"1"}},'
)
_TIKTOK_VIDEO = (
    '{"id":7213456789012345678,"create_time":1787248980,"username":"joe123456",'
    '"region_code":"US","video_description":"x","like_count":980,"comment_count":41,'
    '"share_count":17,"view_count":12400},'
)
# (platform, start, one item with its comma, end): large documents of many small valid items
HUGE_DOCUMENTS = {
    "youtube-videos": (
        "youtube",
        '{"kind":"youtube#videoListResponse","items":[',
        _YOUTUBE_VIDEO,
        '{"kind":"youtube#video","id":"x"}]}',
    ),
    "tiktok-video-query": (
        "tiktok",
        '{"data":{"videos":[',
        _TIKTOK_VIDEO,
        '{"id":1}],"cursor":0,"has_more":false,"search_id":"s"},'
        '"error":{"code":"ok","message":"","log_id":"l"}}',
    ),
}


def huge_document(path: Path, start: str, item: str, end: str, size: int) -> None:
    """A JSON document of about ``size`` bytes, written a megabyte at a time."""
    block = (item * (MiB // len(item))).encode()
    with path.open("wb") as out:
        out.write(start.encode())
        for _ in range(size // len(block)):
            out.write(block)
        out.write(end.encode())


def _message(result: dict[str, object]) -> str:
    return f"{result['stdout']}{result['stderr']}"


def _show(result: dict[str, object]) -> str:
    peak = int(result["peak_rss"]) / MiB  # type: ignore[call-overload]
    return f"peak RSS {peak:.0f} MiB, exit {result['status']}: {_message(result)[-2000:]}"


def test_a_600_mib_followers_list_in_a_small_zip_is_counted_in_bounded_memory(tmp_path: Path):
    path = tmp_path / "instagram-export.zip"
    size, followers = followers_bomb(path)
    assert size > 500 * MiB and path.stat().st_size < 4 * MiB
    assert size / path.stat().st_size < DEFAULT_LIMITS.max_ratio  # not refused as a zip bomb
    result = load_in_child(tmp_path, str(path), "--platform", "instagram", "--account", "17841")
    print("followers bomb:", _show(result))
    assert result["status"] == 0, _show(result)
    assert "instagram/dyi_export: read 1, loaded 1" in _message(result), _show(result)
    assert int(result["peak_rss"]) < PEAK_RSS_LIMIT, _show(result)  # type: ignore[call-overload]
    conn = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        counted = conn.execute(
            "select followers from core.account_daily where account_id = '17841'"
        ).fetchall()
    finally:
        conn.close()
    assert counted == [(followers,)]


def test_a_600_mib_string_in_a_small_zip_is_refused_in_bounded_memory(tmp_path: Path):
    path = tmp_path / "instagram-export.zip"
    size = string_bomb(path)
    assert size / path.stat().st_size < DEFAULT_LIMITS.max_ratio  # not refused as a zip bomb
    result = load_in_child(tmp_path, str(path), "--platform", "instagram", "--account", "17841")
    print("string bomb:", _show(result))
    message = _message(result)
    assert result["status"] != 0, _show(result)
    assert f"instagram-export.zip!{FOLLOWERS_MEMBER}: refused: a JSON string" in message
    assert f"longer than {MAX_SPAN} bytes" in message, _show(result)
    assert int(result["peak_rss"]) < PEAK_RSS_LIMIT, _show(result)  # type: ignore[call-overload]


def test_a_zip_of_more_entries_than_the_limit_is_refused_at_detection(tmp_path: Path):
    path = tmp_path / "crowded.zip"
    entries = 200_000
    crowded_zip(path, entries)
    result = load_in_child(tmp_path, str(path))
    print("crowded zip:", _show(result))
    message = _message(result)
    assert result["status"] != 0, _show(result)
    assert (
        f"crowded.zip: the archive has {entries} entries, more than the limit of "
        f"{DEFAULT_LIMITS.max_members}" in message
    ), _show(result)
    assert int(result["peak_rss"]) < PEAK_RSS_LIMIT, _show(result)  # type: ignore[call-overload]


@pytest.mark.parametrize("case", sorted(HUGE_DOCUMENTS))
def test_a_huge_json_document_is_refused_before_it_is_read(tmp_path: Path, case: str):
    platform, start, item, end = HUGE_DOCUMENTS[case]
    path = tmp_path / f"{case}.json"
    huge_document(path, start, item, end, 200 * MiB)
    result = load_in_child(tmp_path, str(path), "--platform", platform)
    print(f"huge JSON {case}:", _show(result))
    message = _message(result)
    assert result["status"] != 0, _show(result)
    assert f"{case}.json: refused" in message, _show(result)
    assert f"limit of {JSON_DOCUMENT_LIMIT} bytes" in message, _show(result)
    assert int(result["peak_rss"]) < PEAK_RSS_LIMIT, _show(result)  # type: ignore[call-overload]


@pytest.mark.parametrize("lie", [False, True], ids=["told", "understated"])
def test_the_entry_limit_holds_whatever_the_end_record_says(tmp_path: Path, lie: bool):
    from ingest.archives import member_names, open_zip
    from ingest.errors import ParseError

    path = tmp_path / "crowded.zip"
    entries = DEFAULT_LIMITS.max_members + 1
    crowded_zip(path, entries)
    if lie:
        # the end record claims 5 entries; the directory it points to holds them all
        data = bytearray(path.read_bytes())
        at = data.rindex(b"PK\x05\x06")
        struct.pack_into("<2H", data, at + 8, 5, 5)
        path.write_bytes(bytes(data))
    for read in (member_names, open_zip):
        with pytest.raises(ParseError, match=f"{entries} entries, more than the limit"):
            read(path, "crowded.zip")


def test_a_central_directory_larger_than_its_limit_is_refused_before_it_is_read(tmp_path: Path):
    from ingest.archives import member_names
    from ingest.errors import ParseError

    path = tmp_path / "wide.zip"
    crowded_zip(path, 3)
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x05\x06")
    declared = DEFAULT_LIMITS.max_directory_size + 1
    struct.pack_into("<L", data, at + 12, declared)
    path.write_bytes(bytes(data))
    with pytest.raises(ParseError, match=f"central directory is {declared} bytes"):
        member_names(path, "wide.zip")
