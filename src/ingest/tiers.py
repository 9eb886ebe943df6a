"""Creator tiers: the versioned rules of ``tier_rules.toml`` and the follower bounds they imply.

The one reader of the rules file. The marts rebuild stores the rules in ``meta.tier_rules``
(``ingest.transforms``) and ``sql/marts/creator_tier_daily.sql`` assigns tiers from there; the
audit of that mart checks each row's followers against :meth:`RuleVersion.held_bounds`, which
is the same arithmetic written in Python. Keep the two in step: the SQL holds tier ``r`` while
``followers * 100 >= min_r * (100 - pct)`` and ``followers * 100 < min_(r+1) * (100 + pct)``,
with ``pct`` as ``decimal(9, 4)``; a tier's own ``max`` only bounds ``raw_tier``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

TIER_RULES = Path(__file__).parent / "tier_rules.toml"
# the marts read the margin as decimal(9, 4): a finer one would be rounded there, not here
MARGIN_PLACES = 4
MAX_MARGIN_PCT = 50


class TierRulesError(ValueError):
    """The rules file is not usable; the message names the file and the field."""


@dataclass(frozen=True)
class Tier:
    """One tier of a rule version; ``rank`` is its position in the file (lowest first)."""

    name: str
    rank: int
    min_followers: int
    max_followers: int | None


@dataclass(frozen=True)
class RuleVersion:
    """A named set of tiers and the hysteresis margin around their boundaries."""

    name: str
    hysteresis_pct: Decimal
    tiers: tuple[Tier, ...]

    def held_bounds(self, tier: Tier) -> tuple[int, int | None]:
        """The followers a row may have while it holds ``tier`` (inclusive; ``None``: no top).

        A tier is entered from below at ``min * (1 + m)`` and left downwards below
        ``min * (1 - m)``; the next tier takes over at its own ``min * (1 + m)``.
        """
        margin = Fraction(self.hysteresis_pct) / 100
        low = math.ceil(tier.min_followers * (1 - margin))
        if tier.rank + 1 == len(self.tiers):
            return low, None
        above = self.tiers[tier.rank + 1].min_followers
        return low, math.ceil(above * (1 + margin)) - 1


@dataclass(frozen=True)
class TierRules:
    """Every configured rule version and the one a rebuild uses unless told otherwise."""

    default: str
    versions: tuple[RuleVersion, ...]

    def names(self) -> list[str]:
        """Tier names over all versions, lowest rank first, each once."""
        seen: dict[str, None] = {}
        for version in self.versions:
            for tier in version.tiers:
                seen.setdefault(tier.name, None)
        return list(seen)

    def table_rows(self) -> list[dict[str, Any]]:
        """The rows of ``meta.tier_rules``: one per version and tier."""
        return [
            {
                "rule_version": version.name,
                "tier": tier.name,
                "min_followers": tier.min_followers,
                "max_followers": tier.max_followers,
                "rank": tier.rank,
                "hysteresis_pct": float(version.hysteresis_pct),
            }
            for version in self.versions
            for tier in version.tiers
        ]

    def bounds(self) -> list[dict[str, Any]]:
        """Each version's tiers with the followers a row holding that tier may have."""
        rows = []
        for version in self.versions:
            for tier in version.tiers:
                low, high = version.held_bounds(tier)
                rows.append(
                    {
                        "rule_version": version.name,
                        "tier": tier.name,
                        "min_followers": tier.min_followers,
                        "max_followers": tier.max_followers,
                        "min_allowed": low,
                        "max_allowed": high,
                    }
                )
        return rows


def load_rules() -> TierRules:
    """The rules in ``tier_rules.toml``, read again when the file changes."""
    try:
        changed = TIER_RULES.stat().st_mtime_ns
    except OSError as exc:
        raise TierRulesError(f"{TIER_RULES.name}: cannot read the tier rules: {exc}") from exc
    return _parse(TIER_RULES, changed)


@cache
def _parse(path: Path, changed: int) -> TierRules:
    """The rules file at ``path`` as it was at modification time ``changed``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TierRulesError(f"{path.name}: {exc}") from exc
    versions = data.get("versions")
    if not isinstance(versions, dict) or not versions:
        raise TierRulesError(f"{path.name}: no [versions.<name>] table")
    parsed = tuple(_version(path.name, name, spec) for name, spec in versions.items())
    default = data.get("default")
    if default not in versions:
        raise TierRulesError(f"{path.name}: default = {default!r} names no version")
    return TierRules(default=str(default), versions=parsed)


def _version(file: str, name: str, spec: dict[str, Any]) -> RuleVersion:
    where = f"{file}: versions.{name}"
    raw = spec.get("hysteresis_pct", 0)
    # from the text, not the float: 5000 * 1.05 must be 5250 exactly
    number = isinstance(raw, int | float) and not isinstance(raw, bool)
    margin = Decimal(str(raw)) if number else Decimal("nan")
    if margin.is_nan() or not 0 <= margin < MAX_MARGIN_PCT:
        raise TierRulesError(
            f"{where}.hysteresis_pct must be a number in [0, {MAX_MARGIN_PCT}), got {raw!r}"
        )
    exponent = margin.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MARGIN_PLACES:
        raise TierRulesError(
            f"{where}.hysteresis_pct has more than {MARGIN_PLACES} decimal places: {raw!r}"
        )
    tiers = spec.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        raise TierRulesError(f"{where}.tiers must list at least one tier")
    parsed: list[Tier] = []
    for rank, tier in enumerate(tiers):
        at = f"{where}.tiers[{rank}]"
        low, high = tier.get("min"), tier.get("max")
        if not isinstance(tier.get("tier"), str) or not tier["tier"]:
            raise TierRulesError(f"{at}.tier must name the tier")
        if not isinstance(low, int) or low < 0:
            raise TierRulesError(f"{at}.min must be a whole number >= 0, got {low!r}")
        if high is not None and (not isinstance(high, int) or high < low):
            raise TierRulesError(f"{at}.max must be a whole number >= min, got {high!r}")
        if parsed and low <= parsed[-1].min_followers:
            # the marts take the highest-ranked tier whose min the followers reach
            raise TierRulesError(f"{at}.min must be above the previous tier's min, got {low!r}")
        parsed.append(Tier(tier["tier"], rank, low, high))
    return RuleVersion(name=name, hysteresis_pct=margin, tiers=tuple(parsed))
