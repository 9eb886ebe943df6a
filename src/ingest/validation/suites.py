"""The expectation suites: the JSON files in ``expectations/`` and the parameters they refer to.

A suite file names its table and lists GX expectations with a severity and a reason; an entry
marked ``"for_each": "tier_rule"`` becomes one expectation per rule version and tier
(``ingest.tiers``). ``batch_volume.json`` holds the volume checks, which are not GX
expectations (``ingest.validation.gates`` runs them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from ingest.platforms import names as platform_names
from ingest.staging import EARLIEST_DAY, FUTURE_SKEW
from ingest.tiers import TierRules, load_rules

SUITES_DIR = Path(__file__).parents[1] / "expectations"
CANONICAL_SUITES: tuple[str, ...] = ("accounts", "account_daily", "posts", "post_daily")
MART_SUITES: tuple[str, ...] = ("creator_engagement_daily", "creator_tier_daily")
VOLUME_SUITE = "batch_volume"
CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)


@dataclass(frozen=True)
class Spec:
    """One expectation of a suite file: a GX expectation type, its arguments and a severity."""

    type: str
    kwargs: dict[str, Any]
    severity: str
    why: str = ""
    requires: tuple[str, ...] = ()

    # cached: a run-wide audit asks for them once per expectation and load (280,000 times at
    # 1M rows of API pages)
    @cached_property
    def columns(self) -> tuple[str, ...]:
        kw = self.kwargs
        if "column" in kw:
            return (kw["column"],)
        if "column_list" in kw:
            return tuple(kw["column_list"])
        if "column_A" in kw:
            return (kw["column_A"], kw["column_B"])
        return ()

    @property
    def mostly(self) -> float:
        """The share of considered rows that must meet it (GX's ``mostly``; 1 when absent)."""
        return float(self.kwargs.get("mostly", 1.0))

    @cached_property
    def column_label(self) -> str | None:
        return ",".join(self.columns) or None


@dataclass(frozen=True)
class Suite:
    """A suite file: the table it describes, its key and its expectations."""

    name: str
    table: str
    key: tuple[str, ...]
    expectations: tuple[Spec, ...]

    def provided(self, columns: tuple[str, ...]) -> list[Spec]:
        """The expectations whose columns (and required columns) ``columns`` provide."""
        present = set(columns)
        return [s for s in self.expectations if set(s.columns) | set(s.requires) <= present]


def load_suite(name: str) -> Suite:
    """Read ``expectations/<name>.json``; templated entries are expanded (one per tier rule)."""
    return _load_suite(name, load_rules())


@cache
def _load_suite(name: str, rules: TierRules) -> Suite:
    data = json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    specs: list[Spec] = []
    for entry in data["expectations"]:
        severity = entry["severity"]
        if severity not in SEVERITIES:
            raise ValueError(f"{name}: severity must be one of {SEVERITIES}, got {severity!r}")
        variants = [entry["kwargs"]]
        if entry.get("for_each") == "tier_rule":
            variants = [_fill(entry["kwargs"], rule) for rule in rules.bounds()]
        elif "for_each" in entry:
            raise ValueError(f"{name}: unknown for_each {entry['for_each']!r}")
        specs.extend(
            Spec(
                type=entry["type"],
                kwargs=kwargs,
                severity=severity,
                why=entry.get("why", ""),
                requires=tuple(entry.get("requires", ())),
            )
            for kwargs in variants
        )
    key = next(
        (
            tuple(s.kwargs["column_list"])
            for s in specs
            if s.type.endswith("compound_columns_to_be_unique")
        ),
        (),
    )
    return Suite(name=data["suite"], table=data["table"], key=key, expectations=tuple(specs))


def _fill(kwargs: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Template arguments: ``"{name}"`` alone becomes the value itself, otherwise text."""
    filled: dict[str, Any] = {}
    for name, value in kwargs.items():
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            inner = value[1:-1]
            filled[name] = values[inner] if inner in values else value.format(**values)
        elif isinstance(value, str):
            filled[name] = value.format(**values)
        else:
            filled[name] = value
    return filled


@cache
def volume_checks() -> tuple[dict[str, Any], ...]:
    """The checks of ``batch_volume.json``: rows of a delivery against earlier ones."""
    data = json.loads((SUITES_DIR / f"{VOLUME_SUITE}.json").read_text(encoding="utf-8"))
    return tuple(data["checks"])


def expectation_parameters(now: datetime) -> dict[str, Any]:
    """Values for the ``$PARAMETER`` references in the suites, as of ``now``."""
    latest = now.astimezone(UTC) + FUTURE_SKEW
    rules = load_rules()
    return {
        "platforms": list(platform_names()),
        "earliest_timestamp": datetime.combine(EARLIEST_DAY, time(), UTC).isoformat(),
        "latest_timestamp": latest.isoformat(),
        # days reach pandas as naive datetime64: a bare date string would be parsed as a date,
        # which pandas refuses to compare with a timestamp
        "earliest_day": datetime.combine(EARLIEST_DAY, time()).isoformat(),
        "latest_day": datetime.combine(latest.date(), time()).isoformat(),
        "tiers": sorted(rules.names()),
        "tier_rule_versions": sorted(v.name for v in rules.versions),
    }
