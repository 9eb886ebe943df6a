"""The benchmark's trend: every kept run of each case, oldest first, so a regression shows.

Usage: ``python bench/history.py [CASE ...] [--scale 1.0]``. Reads ``results/history/*.json``
(one file per ``bench/run.py`` run) and prints, per case and target, the figure of each run
with its date, commit and scale. Runs at different scales are not comparable: ``--scale``
keeps one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

HISTORY = Path(__file__).resolve().parent / "results" / "history"


def runs(folder: Path = HISTORY) -> list[dict[str, Any]]:
    """The kept runs, oldest first."""
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def trend(
    kept: list[dict[str, Any]], cases: set[str] | None = None, scale: float | None = None
) -> dict[tuple[str, str], list[tuple[str, str, float, float, float, bool]]]:
    """Per (case, target): (date, commit, scale, value, target, met) of each run."""
    lines: dict[tuple[str, str], list[tuple[str, str, float, float, float, bool]]] = {}
    for run in kept:
        if scale is not None and run.get("scale") != scale:
            continue
        for result in run.get("results", []):
            if cases and result["case"] not in cases:
                continue
            for t in result.get("targets", []):
                lines.setdefault((result["case"], f"{t['label']} ({t['unit']})"), []).append(
                    (
                        str(run["generated_at"])[:16],
                        str(run.get("commit", "?")),
                        float(run.get("scale", 0)),
                        float(t["value"]),
                        float(t["target"]),
                        bool(t["met"]),
                    )
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", nargs="*", help="cases to show (default all)")
    parser.add_argument("--scale", type=float, help="only runs at this scale")
    args = parser.parse_args()
    lines = trend(runs(), set(args.cases) or None, args.scale)
    if not lines:
        print("no kept runs match")
        return
    for (case, label), points in lines.items():
        print(f"{case}: {label}, target <= {points[-1][4]:g}")
        previous = None
        for when, commit, scale, value, _, met in points:
            change = "" if previous is None else f"  {value - previous:+.2f}"
            print(
                f"  {when}  {commit:<18} scale {scale:<6g} {value:8.2f}"
                f"  {'met' if met else 'not met'}{change}"
            )
            previous = value


if __name__ == "__main__":
    main()
