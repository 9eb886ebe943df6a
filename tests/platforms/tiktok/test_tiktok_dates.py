"""Year-less Studio dates: the shared coerce helpers they rely on."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.coerce import CoercionError, infer_years, to_month_day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("August 31", (8, 31)),
        ("january 1", (1, 1)),
        ("Sep 5", (9, 5)),
        ("Sept. 5", (9, 5)),
        ("14 Sep", (9, 14)),
        ("  February   29 ", (2, 29)),
        ("undefined", None),
        ("", None),
    ],
)
def test_month_day_reads_year_less_dates(text, expected):
    assert to_month_day(text) == expected


@pytest.mark.parametrize("text", ["August 32", "Smarch 3", "2026-08-31", "31/08", "February 30"])
def test_month_day_refuses_what_is_not_one(text):
    with pytest.raises(CoercionError):
        to_month_day(text)


@pytest.mark.parametrize(
    ("month_days", "latest", "expected"),
    [
        ([], date(2026, 9, 1), []),
        ([(8, 30), (8, 31)], date(2026, 9, 1), [2026, 2026]),
        ([(8, 31)], date(2026, 8, 31), [2026]),  # the export day itself is allowed
        ([(9, 2)], date(2026, 9, 1), [2025]),  # a day after the export is last year's
        ([(12, 31), (1, 1)], date(2026, 1, 5), [2025, 2026]),
        ([(1, 1), (12, 31)], date(2026, 1, 5), [2026, 2025]),  # newest first
        # a window longer than a year wraps twice
        ([(12, 31), (6, 1), (12, 31), (1, 1)], date(2026, 1, 1), [2024, 2025, 2025, 2026]),
    ],
)
def test_infer_years(month_days, latest, expected):
    assert infer_years(month_days, latest) == expected
