"""Property-based fuzzing of every registered parser, and of format detection.

Inputs are random bytes, and mutations of the real fixtures (bytes flipped, cut, spliced,
duplicated; JSON values swapped for hostile ones; CSV cells replaced). Whatever comes in, the
only exceptions that may leave a parser are the project's own (``IngestError`` subclasses).
``DRILL_FUZZ_EXAMPLES`` sets the examples per property (``make drill`` turns it up).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import IngestError
from ingest.parsing import Format, Note, Record, Reject
from ingest.platforms import registry
from tests.conftest import FIXTURES, context

EXAMPLES = int(os.environ.get("DRILL_FUZZ_EXAMPLES") or 60)
FORMATS: list[Format] = registry().formats
SEEDS: list[Path] = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
SEED_BYTES: list[bytes] = [p.read_bytes() for p in SEEDS]
HOSTILE_VALUES: list[Any] = [
    None,
    -1,
    2**64,
    -(2**70),
    1e308,
    float("nan"),
    float("inf"),
    "",
    "NaN",
    "-0",
    "1,2,3",
    "\ud800",
    "\x00",
    "' or 1=1; drop table core.posts; --",
    "9" * 400,
    [],
    {},
    [[[[[]]]]],
    True,
    "2026-02-30T25:61:00Z",
    "0000-00-00",
    "x" * 10_000,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
COUNTER = {"examples": 0}


def parse_all(fmt: Format, path: Path) -> None:
    """Drain a parser; only IngestError may escape, and what it yields must be well formed."""
    ctx = context(fmt.platform, str(path), account="fuzz_account")
    COUNTER["examples"] += 1
    try:
        for item in fmt.parse(path, ctx):
            assert isinstance(item, Record | Reject | Note)
            if isinstance(item, Record):
                assert isinstance(item.values, dict)
    except IngestError as exc:
        assert str(exc).strip(), f"{fmt.platform}/{fmt.name}: an error without a message"


def mutate_bytes(data: bytes, draw: Any) -> bytes:
    kind = draw(st.sampled_from(["flip", "cut", "splice", "dup", "insert"]))
    if not data:
        return draw(st.binary(max_size=64))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        span = draw(st.binary(min_size=1, max_size=8))
        return data[:at] + span + data[at + len(span) :]
    if kind == "cut":
        return data[:at]
    if kind == "splice":
        other = draw(st.sampled_from(SEED_BYTES))
        return data[:at] + other[draw(st.integers(0, max(len(other) - 1, 0))) :]
    if kind == "dup":
        end = draw(st.integers(at, len(data)))
        return data[:end] + data[at:end] + data[end:]
    return (
        data[:at]
        + draw(st.sampled_from([b"\xff", b"\x00", b'"', b"\n", b",", b"\xef\xbb\xbf"]))
        + data[at:]
    )


def mutate_json(doc: Any, draw: Any, depth: int = 0) -> Any:
    if isinstance(doc, dict) and doc:
        key = draw(st.sampled_from(sorted(doc)))
        copy = dict(doc)
        if draw(st.booleans()) or depth > 6:
            copy[key] = draw(st.sampled_from(HOSTILE_VALUES))
        else:
            copy[key] = mutate_json(doc[key], draw, depth + 1)
        return copy
    if isinstance(doc, list) and doc:
        at = draw(st.integers(0, len(doc) - 1))
        copy = list(doc)
        choice = draw(st.sampled_from(["mutate", "drop", "dup"]))
        if choice == "drop":
            del copy[at]
        elif choice == "dup":
            copy.append(copy[at])
        else:
            copy[at] = mutate_json(doc[at], draw, depth + 1)
        return copy
    return draw(st.sampled_from(HOSTILE_VALUES))


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


@st.composite
def fixture_mutations(draw: Any) -> tuple[str, bytes]:
    index = draw(st.integers(0, len(SEEDS) - 1))
    seed, data = SEEDS[index], SEED_BYTES[index]
    if seed.suffix == ".json" and draw(st.booleans()):
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except ValueError:
            return seed.name, mutate_bytes(data, draw)
        text = json.dumps(mutate_json(doc, draw), allow_nan=True)
        return seed.name, text.encode("utf-8", "surrogatepass")
    if seed.suffix == ".zip" and draw(st.booleans()):
        # a well-formed archive whose members are mutated
        out = io.BytesIO()
        with zipfile.ZipFile(seed) as source, zipfile.ZipFile(out, "w") as target:
            for name in source.namelist():
                target.writestr(name, mutate_bytes(source.read(name), draw))
        return seed.name, out.getvalue()
    return seed.name, mutate_bytes(data, draw)


@FUZZ
@given(
    fmt=st.sampled_from(FORMATS),
    data=st.one_of(
        st.binary(max_size=2048),
        st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b),
        st.text(max_size=512).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
)
def test_random_bytes_never_escape_as_anything_but_ingest_errors(
    fmt: Format, data: bytes, tmp_path_factory: Any
):
    tmp = tmp_path_factory.mktemp("fuzz")
    parse_all(fmt, write(tmp, "input.bin", data))


@FUZZ
@given(fmt=st.sampled_from(FORMATS), mutated=fixture_mutations())
def test_mutated_fixtures_never_escape_as_anything_but_ingest_errors(
    fmt: Format, mutated: tuple[str, bytes], tmp_path_factory: Any
):
    tmp = tmp_path_factory.mktemp("fuzz")
    name, data = mutated
    parse_all(fmt, write(tmp, name, data))


@FUZZ
@given(mutated=fixture_mutations())
def test_detection_of_mutated_fixtures(mutated: tuple[str, bytes], tmp_path_factory: Any):
    tmp = tmp_path_factory.mktemp("fuzz")
    name, data = mutated
    path = write(tmp, name, data)
    try:
        fmt = registry().detect(path, str(path))
    except IngestError:
        return
    parse_all(fmt, path)


def test_every_registered_format_meets_every_fixture(tmp_path: Path):
    """The properties draw formats at random; here each format reads every fixture once."""
    assert len(FORMATS) >= 20
    for fmt in FORMATS:
        for seed, data in zip(SEEDS, SEED_BYTES, strict=True):
            parse_all(fmt, write(tmp_path, seed.name, data))
    print(f"parser runs on fuzzed or foreign input in this session: {COUNTER['examples']}")
