"""Property-based fuzzing of every registered parser, and of format detection.

Inputs are random bytes, and mutations of the real fixtures (bytes flipped, cut, spliced,
duplicated; JSON values swapped for hostile ones; CSV cells replaced). Whatever comes in, the
only exceptions that may leave a parser are the project's own (``IngestError`` subclasses).
The hostile-values property goes further, one case per format: one value of a real file is
replaced by non-ASCII digits, an integer past 4,300 digits, NaN or Infinity, a lone
surrogate, a very long line or deep nesting, and the file goes through ``take_sample``,
detection, the format's native stager (where it has one) and ``staging.stage``.
``DRILL_FUZZ_EXAMPLES`` sets the examples per property (``make drill`` turns it up); the
hostile property runs a fifth of them per format (at least 8). Examples are derandomized.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import IngestError
from ingest.parsing import Format, Note, Record, Reject, take_sample
from ingest.platforms import registry
from ingest.staging import stage
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


# ---- hostile values through the whole stage step: detection, native stagers, staging

# per format and target; ``make drill`` multiplies them through DRILL_FUZZ_EXAMPLES
HOSTILE_EXAMPLES = max(8, EXAMPLES // 5)
HOSTILE = settings(FUZZ, max_examples=HOSTILE_EXAMPLES)
DEEP = 100_000
LONG = 300_000
# tokens as they appear in a JSON document: some are not valid JSON (Python's reader and
# DuckDB's disagree on NaN), which is the point
JSON_TOKENS: list[str] = [
    '"١٢٣٤"',  # Arabic-Indic digits
    '"\uff11\uff12\uff13"',  # fullwidth digits
    '"۱۲۳"',  # extended Arabic-Indic digits
    "٣",  # a non-ASCII digit as a bare token
    "9" * 5000,  # past Python's 4,300-digit int limit
    "-" + "9" * 4301,
    '"' + "9" * 5000 + '"',
    "1" + "0" * 400 + ".5e400",
    "NaN",
    "Infinity",
    "-Infinity",
    '"NaN"',
    '"Infinity"',
    '"\\ud800"',  # a lone high surrogate, escaped
    '"\\udfff tail"',
    '"\\ud83d\\ude00\\ud83d"',
    '"' + "x" * LONG + '"',  # a very long line
    "[" * DEEP + "]" * DEEP,  # deep nesting
    '{"a":' * 2000 + "1" + "}" * 2000,
    '"\\u0000"',
    "1e999",
    "-0",
]
# the same, as a CSV cell (or a whole line)
CSV_CELLS: list[bytes] = [
    "١٢٣٤".encode(),
    "\uff11\uff12\uff13".encode(),
    b"9" * 5000,
    b"-" + b"9" * 4301,
    b"NaN",
    b"Infinity",
    b"-inf",
    b"\xed\xa0\x80",  # a lone surrogate encoded as UTF-8 would (invalid UTF-8)
    "\ud800".encode("utf-16-le", "surrogatepass"),
    b"x" * LONG,
    b'"' + b"," * LONG + b'"',
    b"[" * 5000,
    b"1e999",
]
SENTINEL = "@@hostile@@"


def _seed_format(path: Path) -> Format | None:
    try:
        return registry().detect(path, str(path))
    except IngestError:
        return None


# each fixture that is an input of a known format, with that format
SEEDED: list[tuple[Path, Format]] = [
    (p, f) for p in SEEDS if p.parent.name != "fifth_platform" and (f := _seed_format(p))
]
SEEDED_FORMATS: list[Format] = sorted(
    {(f.platform, f.name): f for _, f in SEEDED}.values(), key=lambda f: (f.platform, f.name)
)
COVERED = Counter[str]()


def _plant(doc: Any, draw: Any, depth: int = 0) -> Any:
    """The document with one value (at a drawn place) replaced by ``SENTINEL``."""
    if isinstance(doc, dict) and doc and depth < 12:
        key = draw(st.sampled_from(sorted(doc)))
        return {**doc, key: _plant(doc[key], draw, depth + 1) if draw(st.booleans()) else SENTINEL}
    if isinstance(doc, list) and doc and depth < 12:
        at = draw(st.integers(0, len(doc) - 1))
        return [*doc[:at], _plant(doc[at], draw, depth + 1), *doc[at + 1 :]]
    return SENTINEL


def hostile_json(data: bytes, draw: Any) -> bytes:
    doc = json.loads(data.decode("utf-8-sig"))
    token = draw(st.sampled_from(JSON_TOKENS))
    text = json.dumps(_plant(doc, draw), ensure_ascii=False)
    return text.replace(json.dumps(SENTINEL), token, 1).encode("utf-8")


def hostile_csv(data: bytes, draw: Any) -> bytes:
    lines = data.split(b"\n")
    at = draw(st.integers(0, max(len(lines) - 1, 0)))
    cell = draw(st.sampled_from(CSV_CELLS))
    if draw(st.integers(0, 4)) == 0:
        lines[at] = cell  # the whole line
    else:
        separator = b"\t" if b"\t" in lines[at] else b","
        cells = lines[at].split(separator)
        cells[draw(st.integers(0, len(cells) - 1))] = cell
        lines[at] = separator.join(cells)
    return b"\n".join(lines)


def hostile_member(data: bytes, name: str, draw: Any) -> bytes:
    if name.endswith(".json"):
        try:
            return hostile_json(data, draw)
        except ValueError:
            pass
    return hostile_csv(data, draw)


@st.composite
def hostile_inputs(draw: Any, fmt: Format) -> tuple[str, bytes]:
    """A fixture of ``fmt`` with one value made hostile (in one archive member for a zip)."""
    seed = draw(st.sampled_from([p for p, f in SEEDED if f == fmt]))
    data = seed.read_bytes()
    if seed.suffix == ".zip":
        out = io.BytesIO()
        with zipfile.ZipFile(seed) as source, zipfile.ZipFile(out, "w") as target:
            names = source.namelist()
            chosen = draw(st.sampled_from(names))
            for name in names:
                member = source.read(name)
                target.writestr(
                    name, hostile_member(member, name, draw) if name == chosen else member
                )
        return seed.name, out.getvalue()
    return seed.name, hostile_member(data, seed.name, draw)


def stage_through_everything(fmt: Format, path: Path, tmp: Path) -> None:
    """Detection, the native stager and staging of one file: only IngestError may escape."""
    source = f"{fmt.platform}/2026-09-01/{path.name}"
    ctx = context(fmt.platform, source, account="fuzz_account")
    try:
        sample = take_sample(path, source)
        assert sample.name == path.name
        detected = registry().detect(path, source, fmt.platform)
        COVERED["detected"] += 1
        assert detected.platform == fmt.platform
    except IngestError as exc:
        assert str(exc).strip()
    if fmt.native is not None:
        folder = tmp / "native"
        folder.mkdir()
        try:
            staged = fmt.native(path, ctx, folder)
            COVERED["native staged" if staged is not None else "native declined"] += 1
            if staged is not None:
                assert staged.rows_read >= staged.rows_quarantined >= 0
        except IngestError as exc:
            assert str(exc).strip()
            COVERED["native refused"] += 1
    try:
        batch = stage(
            path,
            fmt,
            ctx,
            staging_root=tmp / "staging",
            load_id=f"fuzz-{tmp.name}",
            source_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        COVERED["staged"] += 1
        assert batch.rows_read >= batch.rows_quarantined >= 0
    except IngestError as exc:
        assert str(exc).strip()
        COVERED["refused"] += 1


@pytest.mark.parametrize("fmt", SEEDED_FORMATS, ids=lambda f: f"{f.platform}-{f.name}")
def test_hostile_values_through_detection_native_stagers_and_staging(
    fmt: Format, tmp_path_factory: pytest.TempPathFactory
):
    @HOSTILE
    @given(hostile=hostile_inputs(fmt))
    def property_(hostile: tuple[str, bytes]) -> None:
        tmp = tmp_path_factory.mktemp("hostile")
        name, data = hostile
        stage_through_everything(fmt, write(tmp, name, data), tmp)

    property_()


def test_the_hostile_fuzz_reaches_every_stage(tmp_path: Path):
    """Every format with a fixture is fuzzed, native stagers included, and the unmutated
    fixtures stage, natively where a stager exists (a harness whose every input was refused
    before staging would prove nothing)."""
    natives = {(f.platform, f.name) for f in registry().formats if f.native is not None}
    assert natives and natives <= {(f.platform, f.name) for f in SEEDED_FORMATS}
    assert len(SEEDED_FORMATS) >= 20
    for fmt in SEEDED_FORMATS:
        seed = next(p for p, f in SEEDED if f == fmt)
        tmp = tmp_path / f"{fmt.platform}-{fmt.name}"
        tmp.mkdir()
        stage_through_everything(fmt, write(tmp, seed.name, seed.read_bytes()), tmp)
    assert COVERED["staged"] >= len(SEEDED_FORMATS)
    assert COVERED["native staged"] >= len(natives)
    print(f"hostile fuzz outcomes in this session: {dict(COVERED)}")


def test_a_lone_surrogate_quoted_in_a_reject_reason_is_quarantined(tmp_path: Path):
    """Found by the hostile fuzz: a reason that quotes the bad value (Snapchat's failed
    sub-request status) carried the surrogate into the quarantine Parquet, whose writer
    raised UnicodeEncodeError out of staging."""
    fmt = registry(("snapchat",)).get("snapchat", "public_profiles", "page.json")
    path = FIXTURES / "snapchat" / "public_profiles.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["public_profiles"][0]["sub_request_status"] = "\ud800"
    page = write(tmp_path, "page.json", json.dumps(doc).encode())
    ctx = context("snapchat", "snapchat/2026-09-01/page.json")
    batch = stage(page, fmt, ctx, staging_root=tmp_path / "staging", load_id="L", source_sha256="x")
    assert batch.rows_quarantined >= 1
    quarantined = pq.read_table(batch.quarantine_path).to_pylist()
    assert any("\\ud800" in row["reason"] for row in quarantined), quarantined
