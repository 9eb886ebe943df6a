"""``ingest report``: one self-contained HTML page of the BI copy's marts, charts as inline SVG.

The page needs no network and no script: every chart is SVG drawn here from the query results,
so it opens the same in a browser on an offline machine, in a mail attachment or in CI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from ingest.config import Settings
from ingest.errors import IngestError
from ingest.warehouse import open_bi

TIER_ORDER = ("nano", "micro", "macro", "mega")
TIER_COLOURS = {"nano": "#9ecae1", "micro": "#2ca25f", "macro": "#fd8d3c", "mega": "#810f7c"}
SERIES_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")
PLATFORM_COLOURS = {
    "instagram": "#c13584",
    "youtube": "#e62117",
    "tiktok": "#111111",
    "snapchat": "#e6c200",
}
WIDTH, HEIGHT = 760, 320
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 150, 20, 20, 44

Point = tuple[float, float]


@dataclass(frozen=True)
class Series:
    """A named line of (x, y) points, with optional highlighted points (flagged days)."""

    name: str
    points: list[Point]
    marks: list[Point]


def write_report(settings: Settings, out: Path) -> Path:
    """Write the HTML report of the BI copy to ``out`` and return its path.

    Raises:
        IngestError: there is no BI copy yet (nothing was published).
    """
    conn = open_bi(settings)
    try:
        page = render(conn, generated_at=datetime.now(UTC))
    finally:
        conn.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def render(conn: duckdb.DuckDBPyConnection, *, generated_at: datetime) -> str:
    """The whole page, from the marts of an open (read-only) BI connection."""
    latest = _scalar(conn, "select max(day) from marts.creator_engagement_daily")
    if not isinstance(latest, date):
        raise IngestError("the BI copy has no engagement rows yet: nothing to report")
    sections = [
        _tier_section(conn, latest),
        _top_micro_section(conn, latest),
        _scatter_section(conn, latest),
        _growth_section(conn),
        _anomaly_section(conn),
    ]
    return _PAGE.format(
        latest=latest.isoformat(),
        generated=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        body="\n".join(sections),
    )


def _scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> Any:
    row = conn.execute(sql, params or {}).fetchone()
    return row[0] if row else None


def _section(title: str, note: str, content: str) -> str:
    return f"<section><h2>{escape(title)}</h2><p class=note>{escape(note)}</p>{content}</section>"


def _tier_section(conn: duckdb.DuckDBPyConnection, latest: date) -> str:
    rows = conn.execute(
        "select platform, coalesce(tier, 'hidden'), count(*) from marts.creator_tier_daily"
        " where day = $day group by all order by all",
        {"day": latest},
    ).fetchall()
    counts: dict[str, dict[str, int]] = {}
    for platform, tier, n in rows:
        counts.setdefault(str(platform), {})[str(tier)] = int(n)
    tiers = [t for t in (*TIER_ORDER, "hidden") if any(t in c for c in counts.values())]
    colours = {**TIER_COLOURS, "hidden": "#bdbdbd"}
    stacks = [
        (platform, [(tier, float(by_tier.get(tier, 0)), colours[tier]) for tier in tiers])
        for platform, by_tier in sorted(counts.items())
    ]
    chart = _stacked_bars(stacks, x_label="accounts")
    legend = _legend([(t, colours[t]) for t in tiers])
    return _section(
        "Tier distribution per platform",
        f"Accounts per tier on {latest.isoformat()} (followers by the rule version on each row).",
        chart + legend,
    )


def _top_micro_section(conn: duckdb.DuckDBPyConnection, latest: date) -> str:
    rows = conn.execute(
        "select coalesce(e.handle, e.account_id) || ' (' || e.platform || ')', e.engagement_rate"
        " from marts.creator_engagement_daily e"
        " join marts.creator_tier_daily t using (platform, account_id, day)"
        " where e.day = $day and t.tier = 'micro' and e.engagement_rate is not null"
        " order by e.engagement_rate desc, e.account_id limit 12",
        {"day": latest},
    ).fetchall()
    bars = [(str(label), 100 * float(rate), TIER_COLOURS["micro"]) for label, rate in rows]
    chart = _stacked_bars([(label, [(label, v, c)]) for label, v, c in bars], x_label="%")
    return _section(
        "Top micro creators by engagement",
        "Engagement rate by followers (er_followers_v1, %) of micro accounts on the latest day.",
        chart if bars else "<p>No micro account has an engagement rate on this day.</p>",
    )


def _scatter_section(conn: duckdb.DuckDBPyConnection, latest: date) -> str:
    rows = conn.execute(
        "select platform, followers, engagement_rate from marts.creator_engagement_daily"
        " where day = $day and followers > 0 and engagement_rate is not null",
        {"day": latest},
    ).fetchall()
    points = [
        (math.log10(float(f)), 100 * float(r), PLATFORM_COLOURS.get(str(p), "#555"))
        for p, f, r in rows
    ]
    platforms = sorted({str(p) for p, _, _ in rows})
    chart = _scatter(points, x_label="followers (log scale)", y_label="engagement %")
    legend = _legend([(p, PLATFORM_COLOURS.get(p, "#555")) for p in platforms])
    return _section(
        "Engagement vs followers",
        "One dot per account on the latest day: smaller audiences tend to engage more.",
        chart + legend,
    )


def _growth_section(conn: duckdb.DuckDBPyConnection) -> str:
    picked = conn.execute(
        "select creator_id from marts.creator_daily where total_followers > 0"
        " group by creator_id having count(*) > 1"
        " order by arg_max(total_followers, day) / arg_min(total_followers, day) desc,"
        " creator_id limit 5"
    ).fetchall()
    series = []
    for (creator_id,) in picked:
        points = conn.execute(
            "select day, total_followers from marts.creator_daily"
            " where creator_id = $c and total_followers is not null order by day",
            {"c": creator_id},
        ).fetchall()
        # indexed to 100 on the first day, so small and large creators share one scale
        base = float(points[0][1])
        indexed = [(_ordinal(d), 100 * float(f) / base) for d, f in points]
        series.append(Series(str(creator_id), indexed, []))
    return _section(
        "Follower growth of the fastest-growing creators",
        "Total followers across platforms per day (marts.creator_daily), indexed to 100 on the"
        " first day; the 5 creators that grew most.",
        _lines(series) if series else "<p>No creator has more than one day yet.</p>",
    )


def _anomaly_section(conn: duckdb.DuckDBPyConnection) -> str:
    flagged = conn.execute(
        "select platform, account_id, coalesce(handle, account_id), day, followers_change_1d,"
        " median_change, mad_change, robust_score, threshold"
        " from marts.follower_anomalies_daily where is_spike"
        " order by robust_score desc, day limit 25"
    ).fetchall()
    series = []
    shown: list[tuple[str, str]] = []
    for platform, account_id, *_ in flagged:
        if (platform, account_id) not in shown and len(shown) < 4:
            shown.append((platform, account_id))
    for platform, account_id in shown:
        rows = conn.execute(
            "select day, followers, is_spike, coalesce(handle, account_id)"
            " from marts.follower_anomalies_daily where platform = $p and account_id = $a"
            " and followers is not null order by day",
            {"p": platform, "a": account_id},
        ).fetchall()
        points = [(_ordinal(d), float(f)) for d, f, _, _ in rows]
        marks = [(_ordinal(d), float(f)) for d, f, spike, _ in rows if spike]
        series.append(Series(f"{rows[0][3]} ({platform})", points, marks))
    table = "".join(
        f"<tr><td>{escape(str(p))}</td><td>{escape(str(h))}</td><td>{d}</td>"
        f"<td>{c:+,}</td><td>{m:,.1f}</td><td>{mad:,.1f}</td><td>{s:,.1f}</td><td>{t:g}</td></tr>"
        for p, _, h, d, c, m, mad, s, t in flagged
    )
    content = (
        _lines(series, log_y=True)
        + "<table><tr><th>platform</th><th>account</th><th>day</th><th>change</th>"
        "<th>median</th><th>MAD</th><th>score</th><th>threshold</th></tr>" + table + "</table>"
        if flagged
        else "<p>No follower spike flagged.</p>"
    )
    return _section(
        "Flagged follower spikes",
        "Daily follower change against the account's trailing 28 days (anomaly_spike_mad_v1):"
        " score = (change - median) / max(1.4826 MAD, 0.1% of followers, rounding step, 1);"
        " red dots are flagged days.",
        content,
    )


def _ordinal(day: date) -> float:
    return float(day.toordinal())


# ---- drawing


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [math.floor(low / step) * step]
    while ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _label(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _frame(body: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img">{body}</svg>'
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(text)}</text>'


def _stacked_bars(
    stacks: Sequence[tuple[str, Sequence[tuple[str, float, str]]]], x_label: str
) -> str:
    """Horizontal bars, one per label, each split into coloured parts."""
    row = 26
    height = PAD_TOP + PAD_BOTTOM + row * max(1, len(stacks))
    top = max([sum(v for _, v, _ in parts) for _, parts in stacks] or [1.0])
    ticks = _nice_ticks(0, top)
    span = WIDTH - PAD_LEFT - PAD_RIGHT

    def x(value: float) -> float:
        return PAD_LEFT + span * value / ticks[-1]

    body = []
    for tick in ticks:
        body.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{PAD_TOP}"'
            f' y2="{height - PAD_BOTTOM}" class=grid />'
        )
        body.append(_text(x(tick), height - PAD_BOTTOM + 16, _label(tick)))
    for n, (label, parts) in enumerate(stacks):
        y = PAD_TOP + n * row
        body.append(_text(PAD_LEFT - 6, y + row / 2 + 4, label[:24], anchor="end"))
        start = 0.0
        for name, value, colour in parts:
            if value <= 0:
                continue
            body.append(
                f'<rect x="{x(start):.1f}" y="{y + 3}" width="{x(start + value) - x(start):.1f}"'
                f' height="{row - 6}" fill="{colour}">'
                f"<title>{escape(name)}: {value:g}</title></rect>"
            )
            start += value
    body.append(_text(PAD_LEFT + span / 2, height - 8, x_label))
    return _frame("".join(body), height)


def _scatter(points: Sequence[tuple[float, float, str]], x_label: str, y_label: str) -> str:
    """Dots on a log10 x axis (values are already log10) and a linear y axis."""
    if not points:
        return "<p>No account has an engagement rate on this day.</p>"
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_lo, x_hi = math.floor(min(xs)), math.ceil(max(xs))
    x_hi = max(x_hi, x_lo + 1)
    y_ticks = _nice_ticks(0, max(ys))
    span_x = WIDTH - PAD_LEFT - PAD_RIGHT
    span_y = HEIGHT - PAD_TOP - PAD_BOTTOM

    def px(v: float) -> float:
        return PAD_LEFT + span_x * (v - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        return HEIGHT - PAD_BOTTOM - span_y * v / y_ticks[-1]

    body = _axes_y(y_ticks, py)
    for power in range(x_lo, x_hi + 1):
        body.append(_text(px(power), HEIGHT - PAD_BOTTOM + 16, _label(10.0**power)))
    body.extend(
        f'<circle cx="{px(xv):.1f}" cy="{py(yv):.1f}" r="3.5" fill="{colour}" fill-opacity="0.7" />'
        for xv, yv, colour in points
    )
    body.append(_text(PAD_LEFT + span_x / 2, HEIGHT - 8, x_label))
    body.append(_text(18, HEIGHT / 2, y_label, extra=f'transform="rotate(-90 18 {HEIGHT / 2})"'))
    return _frame("".join(body))


def _axes_y(ticks: list[float], py: Any) -> list[str]:
    parts = []
    for tick in ticks:
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{py(tick):.1f}"'
            f' y2="{py(tick):.1f}" class=grid />'
        )
        parts.append(_text(PAD_LEFT - 6, py(tick) + 4, _label(tick), anchor="end"))
    return parts


def _lines(series: Sequence[Series], log_y: bool = False) -> str:
    """Lines over days (x = date ordinals), one colour per series, with a legend."""
    xs = [x for s in series for x, _ in s.points]
    raw_ys = [y for s in series for _, y in s.points]
    if not xs:
        return "<p>No data.</p>"

    def f(v: float) -> float:
        return math.log10(max(v, 1.0)) if log_y else v

    ys = [f(y) for y in raw_ys]
    y_ticks = _nice_ticks(min(ys), max(ys))
    x_lo, x_hi = min(xs), max(max(xs), min(xs) + 1)
    span_x = WIDTH - PAD_LEFT - PAD_RIGHT
    span_y = HEIGHT - PAD_TOP - PAD_BOTTOM

    def px(v: float) -> float:
        return PAD_LEFT + span_x * (v - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        return HEIGHT - PAD_BOTTOM - span_y * (v - y_ticks[0]) / (y_ticks[-1] - y_ticks[0])

    body = []
    for tick in y_ticks:
        body.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{py(tick):.1f}"'
            f' y2="{py(tick):.1f}" class=grid />'
        )
        shown = _label(10**tick) if log_y else _label(tick)
        body.append(_text(PAD_LEFT - 6, py(tick) + 4, shown, anchor="end"))
    for tick in _nice_ticks(x_lo, x_hi, 6):
        if x_lo <= tick <= x_hi and tick == int(tick):
            label = date.fromordinal(int(tick)).strftime("%b %d")
            body.append(_text(px(tick), HEIGHT - PAD_BOTTOM + 16, label))
    legend = []
    for n, line in enumerate(series):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(f(y)):.1f}" for x, y in line.points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" />')
        body.extend(
            f'<circle cx="{px(x):.1f}" cy="{py(f(y)):.1f}" r="5" fill="#d62728" />'
            for x, y in line.marks
        )
        legend.append((line.name, colour))
    return _frame("".join(body)) + _legend(legend)


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return (
        "<div class=legend>"
        + "".join(
            f'<span><i style="background:{colour}"></i>{escape(name)}</span>'
            for name, colour in items
        )
        + "</div>"
    )


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Creator metrics report</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }}
section {{ margin-bottom: 32px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-bottom: 4px; }}
.note {{ color: #666; margin-top: 0; }}
svg text {{ font-size: 11px; fill: #444; }}
svg .grid {{ stroke: #e5e5e5; }}
.legend span {{ margin-right: 14px; }}
.legend i {{ display: inline-block; width: 12px; height: 12px; margin-right: 4px; }}
table {{ border-collapse: collapse; margin-top: 8px; }}
td, th {{ border-bottom: 1px solid #eee; padding: 3px 8px; text-align: right; }}
</style>
</head>
<body>
<h1>Creator metrics report</h1>
<p class=note>Latest day {latest}; generated {generated} from the BI copy.</p>
{body}
</body>
</html>
"""
