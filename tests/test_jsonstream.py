"""The streaming JSON walker: the parts of a document, and every bound refused as a ParseError."""

from __future__ import annotations

import io

import pytest

from ingest.errors import ParseError
from ingest.jsonstream import MAX_ELEMENT_EVENTS, MAX_SPAN, Element, Value, top_level


def parts(data: bytes, built: tuple[str | None, ...] = ()) -> list[object]:
    return list(top_level(io.BytesIO(data), "doc.json", lambda key: key in built))


def test_a_top_level_array_is_counted_without_building_its_elements():
    assert parts(b'[{"a": [1, {"b": 2}]}, "x", 3]') == [
        Value(None, "array"),
        Element(None, None),
        Element(None, None),
        Element(None, None),
    ]


def test_arrays_under_keys_are_built_where_asked_and_other_values_named():
    doc = (
        b'\xef\xbb\xbf{"posts": [{"n": 1.5, "s": "\\u00e9"}], "skip": [1], "o": {"k": [2]}, "z": 0}'
    )
    assert parts(doc, built=("posts",)) == [
        Value(None, "object"),
        Value("posts", "array"),
        Element("posts", {"n": 1.5, "s": "\u00e9"}),
        Value("skip", "array"),
        Element("skip", None),
        Value("o", "object"),
        Value("z", "scalar"),
    ]


@pytest.mark.parametrize(
    ("data", "built", "problem"),
    [
        (b"", (), "not valid JSON"),
        (b"[1, 2", (), "not valid JSON"),
        (b"[1] [2]", (), "not valid JSON"),
        (b'["\xff\xfe"]', (), "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, (), "nested more than"),
        (b'{"p": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", ("p",), "nested more than"),
        (b'["' + b"a" * (MAX_SPAN + 1) + b'"]', (), f"longer than {MAX_SPAN} bytes"),
        (b"[" + b" " * (MAX_SPAN + 1) + b"1]", (), f"longer than {MAX_SPAN} bytes"),
        (
            b'{"p": [[' + b"1," * MAX_ELEMENT_EVENTS + b"1]]}",
            ("p",),
            f"more than {MAX_ELEMENT_EVENTS} JSON values",
        ),
    ],
    ids=[
        "empty",
        "truncated",
        "two-documents",
        "not-utf8",
        "deep",
        "deep-built",
        "long-string",
        "long-blank",
        "huge-element",
    ],
)
def test_bad_or_unbounded_documents_are_parse_errors_naming_the_file(data, built, problem):
    with pytest.raises(ParseError, match=problem) as caught:
        parts(data, built)
    assert str(caught.value).startswith("doc.json")
