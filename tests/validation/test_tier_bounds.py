"""The tier audit holds the marts to the arithmetic they apply, for any rules file they accept."""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import tiers
from ingest.transforms import rebuild_marts
from ingest.validation import CRITICAL, PendingMarts, audit_marts
from ingest.warehouse import migrate, open_warehouse
from tests.marts.helpers import account_day, pending

D = date(2026, 9, 1)

# a gap between the tiers (1,000 to 1,999 is in none) and a capped top tier: the marts hold a
# tier from min * (1 - m) up to the next tier's min * (1 + m), and the top tier has no ceiling
# (a tier's own max only bounds raw_tier)
GAPPED = """
default = "gapped"

[versions.gapped]
hysteresis_pct = 10
tiers = [
    { tier = "small", min = 0, max = 999 },
    { tier = "large", min = 2000, max = 2999 },
]
"""

# followers, raw_tier, tier held (small: up to 2,000 * 1.1 - 1; large: from 2,000 * 0.9 on)
WALK = [
    (500, "small", "small"),
    (1_500, None, "small"),  # in the gap: the lower tier is held
    (2_100, "large", "small"),  # above 2,000 but not by 10%
    (2_200, "large", "large"),
    (5_000, None, "large"),  # above the top tier's max: still the top tier
    (1_850, None, "large"),  # below 2,000 but not by 10%
]


@pytest.fixture
def rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tier_rules.toml"
    monkeypatch.setattr(tiers, "TIER_RULES", path)
    return path


def test_held_bounds_follow_the_next_tiers_min_not_the_tiers_own_max(rules_file):
    rules_file.write_text(GAPPED)
    assert [
        (b["tier"], b["min_allowed"], b["max_allowed"]) for b in tiers.load_rules().bounds()
    ] == [("small", 0, 2_199), ("large", 1_800, None)]


def test_the_audit_passes_what_the_marts_assign(rules_file, tmp_path, gx_session):
    rules_file.write_text(GAPPED)
    conn = open_warehouse(tmp_path / "w.duckdb")
    try:
        migrate(conn)
        last = D + timedelta(days=len(WALK) - 1)
        for n, (followers, _, _) in enumerate(WALK):
            account_day(conn, "acc", D + timedelta(days=n), followers)
        pending(conn, "acc", D, last)
        rebuild_marts(conn)
        assert (
            conn.execute(
                "select followers, raw_tier, tier from marts.creator_tier_daily order by day"
            ).fetchall()
            == WALK
        )
        report = audit_marts(conn, PendingMarts([("youtube", "acc", D, last)], ["test"]))
    finally:
        conn.close()
    assert [r.label() for r in report.failures(CRITICAL)] == []
    # one bounds check per tier of the version, each over the rows holding that tier
    checked = [
        r
        for r in report.results
        if r.suite == "creator_tier_daily"
        and r.expectation.endswith("_to_be_between")
        and r.column == "followers"
    ]
    assert [(r.kwargs["min_value"], r.kwargs["max_value"], r.success) for r in checked] == [
        (0, 2_199, True),
        (1_800, None, True),
    ]


def test_the_shipped_rules():
    rules = tiers.load_rules()
    assert rules.default == "mission-v1"
    assert {v.name: v.hysteresis_pct for v in rules.versions} == {
        "mission-v1": Decimal(0),
        "mission-v2": Decimal(5),
    }
    margin = {b["tier"]: (b["min_allowed"], b["max_allowed"]) for b in rules.bounds()[4:]}
    assert margin == {
        "nano": (0, 5_249),
        "micro": (4_750, 104_999),
        "macro": (95_000, 1_049_999),
        "mega": (950_000, None),
    }


TIERS = 'tiers = [{ tier = "a", min = 0, max = 9 }, { tier = "b", min = 10 }]'


def _version(body: str, default: str = "v") -> str:
    return f"default = '{default}'\n[versions.v]\n{body}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_version(f"hysteresis_pct = 50\n{TIERS}"), "versions.v.hysteresis_pct must be"),
        (_version(f"hysteresis_pct = -1\n{TIERS}"), "a number in [0, 50)"),
        (_version(f"hysteresis_pct = '5'\n{TIERS}"), "a number in [0, 50)"),
        # the marts hold the margin as decimal(9, 4): a finer one would be rounded there only
        (_version(f"hysteresis_pct = 2.55555\n{TIERS}"), "more than 4 decimal places"),
        (_version(TIERS, default="w"), "default = 'w' names no version"),
        (_version("tiers = []"), "versions.v.tiers must list at least one tier"),
        (
            _version("tiers = [{ tier = 'a', min = 5 }, { tier = 'b', min = 4 }]"),
            "versions.v.tiers[1].min must be above the previous tier's min",
        ),
        (
            _version("tiers = [{ tier = 'a', min = 5, max = 4 }]"),
            "versions.v.tiers[0].max must be a whole number >= min",
        ),
        (_version("tiers = [{ min = 0 }]"), "versions.v.tiers[0].tier must name the tier"),
        (_version("tiers = [{ tier = 'a', min = -1 }]"), "versions.v.tiers[0].min must be"),
        ("default = 'v'\nversions = [", "tier_rules.toml: "),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_field(rules_file, text, message):
    rules_file.write_text(text)
    with pytest.raises(tiers.TierRulesError) as refused:
        tiers.load_rules()
    assert str(refused.value).startswith("tier_rules.toml: ")
    assert message in str(refused.value)


def test_a_four_place_margin_is_exact(rules_file):
    rules_file.write_text(_version(f"hysteresis_pct = 2.5555\n{TIERS}"))
    # exact decimal arithmetic: a is held below 10 * 1.025555, b from 10 * 0.974445 on
    assert [(b["min_allowed"], b["max_allowed"]) for b in tiers.load_rules().bounds()] == [
        (0, 10),
        (10, None),
    ]


def test_an_edited_rules_file_is_read_again(rules_file):
    # as when each rebuild read the file: a long-lived process sees an edit on its next rebuild
    rules_file.write_text(_version(TIERS))
    os.utime(rules_file, ns=(1_000_000_000, 1_000_000_000))
    assert tiers.load_rules().versions[0].hysteresis_pct == 0
    rules_file.write_text(_version(f"hysteresis_pct = 5\n{TIERS}"))
    os.utime(rules_file, ns=(2_000_000_000, 2_000_000_000))
    assert tiers.load_rules().versions[0].hysteresis_pct == 5


def test_a_missing_rules_file_is_a_clear_error(rules_file):
    with pytest.raises(tiers.TierRulesError, match=r"^tier_rules\.toml: cannot read"):
        tiers.load_rules()
