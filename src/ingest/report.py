"""``ingest report``: one self-contained HTML page of the BI copy's marts, charts drawn by plotly.

plotly.js is embedded in the page once and every figure is drawn from JSON next to it, so the
page opens the same with no network: in a browser on an offline machine, as a mail attachment
or in CI.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

from ingest.config import Settings
from ingest.errors import IngestError
from ingest.sqlfiles import run_sql
from ingest.tiers import load_rules
from ingest.warehouse import open_bi

TIER_COLOURS = {
    "nano": "#9ecae1",
    "micro": "#2ca25f",
    "macro": "#fd8d3c",
    "mega": "#810f7c",
    "hidden": "#bdbdbd",
}
SPIKE_COLOUR = "#d62728"
TOP_MICRO = 12
GROWTH_TOP_MICRO = 3
GROWTH_FASTEST = 3
SPIKE_ACCOUNTS = 6
SPIKE_TABLE_ROWS = 25
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Chart:
    """One section of the page: a plotly figure, or the sentence said when there is no data."""

    key: str
    title: str
    note: str
    figure: Any  # plotly.graph_objects.Figure, or None when there is nothing to draw
    empty: str
    extra_html: str = ""


def tier_order() -> tuple[str, ...]:
    """The tiers of the rules file from lowest to highest, then accounts with hidden counts."""
    return (*load_rules().names(), "hidden")


def write_report(settings: Settings, out: Path) -> Path:
    """Write the HTML report of the BI copy to ``out`` and return its path.

    Raises:
        IngestError: there is no BI copy yet (nothing was published).
    """
    conn = open_bi(settings)
    try:
        # imported here, not at module level: plotly takes a while to import and only the
        # report needs it, so `ingest --help` and every other command stay quick
        import plotly.graph_objects as go

        page = render(conn, generated_at=datetime.now(UTC), go=go)
    finally:
        conn.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def render(conn: duckdb.DuckDBPyConnection, *, generated_at: datetime, go: ModuleType) -> str:
    """The whole page, from the marts of an open (read-only) BI connection.

    ``go`` is ``plotly.graph_objects``, passed in so this module does not import plotly.
    """
    row = run_sql(conn, "report/latest_day").fetchone()
    latest = row[0] if row else None
    if not isinstance(latest, date):
        raise IngestError("the BI copy has no engagement rows yet: nothing to report")
    charts = [
        _tier_chart(conn, go, latest),
        _top_micro_chart(conn, go, latest),
        _scatter_chart(conn, go, latest),
        _growth_chart(conn, go, latest),
        _spike_chart(conn, go),
    ]
    sections = []
    bundled = False
    for chart in charts:
        if chart.figure is None:
            body = f"<p>{escape(chart.empty)}</p>"
        else:
            # plotly.js goes into the page once, with the first figure drawn; the others
            # only call Plotly.newPlot on it
            body = chart.figure.to_html(
                full_html=False,
                include_plotlyjs=not bundled,
                div_id=f"chart-{chart.key}",
                config=PLOT_CONFIG,
            )
            bundled = True
        sections.append(
            f"<section><h2>{escape(chart.title)}</h2><p class=note>{escape(chart.note)}</p>"
            f"{body}{chart.extra_html}</section>"
        )
    return _PAGE.format(
        latest=latest.isoformat(),
        generated=generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        body="\n".join(sections),
    )


def _layout(fig: Any, *, height: int, **extra: Any) -> Any:
    settings: dict[str, Any] = {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.18},
    }
    fig.update_layout(**{**settings, **extra})
    return fig


def _tier_chart(conn: duckdb.DuckDBPyConnection, go: ModuleType, latest: date) -> Chart:
    rows = run_sql(conn, "report/tier_counts", {"day": latest}).fetchall()
    counts: dict[str, dict[str, int]] = {}
    for platform, tier, n in rows:
        counts.setdefault(str(platform), {})[str(tier)] = int(n)
    platforms = sorted(counts)
    tiers = [t for t in tier_order() if any(t in c for c in counts.values())]
    fig = None
    if counts:
        fig = go.Figure(
            [
                go.Bar(
                    name=tier,
                    x=platforms,
                    y=[counts[p].get(tier, 0) for p in platforms],
                    marker_color=TIER_COLOURS.get(tier, "#555"),
                    hovertemplate="%{x}: %{y} " + tier + " accounts<extra></extra>",
                )
                for tier in tiers
            ]
        )
        _layout(
            fig, height=360, barmode="stack", yaxis_title="accounts", legend_traceorder="normal"
        )
    return Chart(
        "tiers",
        "Tier distribution per platform",
        f"Accounts per tier on {latest.isoformat()} (followers by the rule version on each row;"
        " hidden: the platform does not expose the count).",
        fig,
        "No account has a tier on this day.",
    )


def _top_micro_chart(conn: duckdb.DuckDBPyConnection, go: ModuleType, latest: date) -> Chart:
    rows = run_sql(conn, "report/top_micro", {"day": latest, "n": TOP_MICRO}).fetchall()
    fig = None
    if rows:
        # the best first, at the top of the chart: plotly draws horizontal bars bottom-up
        ordered = list(reversed(rows))
        fig = go.Figure(
            go.Bar(
                orientation="h",
                y=[str(label) for label, *_ in ordered],
                x=[100 * float(rate) for _, rate, _, _ in ordered],
                customdata=[[followers, posts] for _, _, followers, posts in ordered],
                marker_color=TIER_COLOURS["micro"],
                hovertemplate="%{y}<br>engagement %{x:.2f}%<br>followers %{customdata[0]:,}"
                "<br>posts in 28 days %{customdata[1]}<extra></extra>",
            )
        )
        _layout(
            fig,
            height=max(260, 60 + 28 * len(rows)),
            xaxis_title="engagement rate by followers (%)",
            margin={"l": 170, "r": 20, "t": 20, "b": 50},
        )
    return Chart(
        "top-micro",
        "Top micro creators by engagement",
        "Engagement rate by followers (er_followers_v1, %) of the micro accounts on the latest"
        " day; hover for followers.",
        fig,
        "No micro account has an engagement rate on this day.",
    )


def _scatter_chart(conn: duckdb.DuckDBPyConnection, go: ModuleType, latest: date) -> Chart:
    rows = run_sql(conn, "report/engagement_vs_followers", {"day": latest}).fetchall()
    by_tier: dict[str, list[tuple[Any, ...]]] = {}
    for tier, *rest in rows:
        by_tier.setdefault(str(tier), []).append(tuple(rest))
    fig = None
    if rows:
        fig = go.Figure(
            [
                go.Scatter(
                    name=tier,
                    mode="markers",
                    x=[followers for _, _, followers, _ in by_tier[tier]],
                    y=[100 * float(rate) for _, _, _, rate in by_tier[tier]],
                    text=[f"{handle} ({platform})" for handle, platform, _, _ in by_tier[tier]],
                    marker={"color": TIER_COLOURS.get(tier, "#555"), "size": 9, "opacity": 0.8},
                    hovertemplate="%{text}<br>followers %{x:,}<br>engagement %{y:.2f}%"
                    "<extra>" + tier + "</extra>",
                )
                for tier in tier_order()
                if tier in by_tier
            ]
        )
        _layout(
            fig,
            height=380,
            xaxis={"type": "log", "title": "followers (log scale)"},
            yaxis_title="engagement rate by followers (%)",
        )
    return Chart(
        "scatter",
        "Engagement vs followers",
        "One dot per account on the latest day, coloured by tier: smaller audiences tend to"
        " engage more.",
        fig,
        "No account has an engagement rate on this day.",
    )


def _growth_picks(conn: duckdb.DuckDBPyConnection, latest: date) -> list[tuple[str, str]]:
    """(creator_id, why it is shown): the top micro creators by engagement, then the fastest
    growers over their history, without repeats."""
    top_micro = run_sql(
        conn, "report/top_micro_creators", {"day": latest, "n": GROWTH_TOP_MICRO}
    ).fetchall()
    fastest = run_sql(
        conn, "report/fastest_growing_creators", {"n": GROWTH_TOP_MICRO + GROWTH_FASTEST}
    ).fetchall()
    picks = [(str(c), "top micro engagement") for (c,) in top_micro]
    chosen = {c for c, _ in picks}
    for (creator_id,) in fastest:
        if len(picks) >= GROWTH_TOP_MICRO + GROWTH_FASTEST:
            break
        if str(creator_id) not in chosen:
            picks.append((str(creator_id), "fastest growth"))
            chosen.add(str(creator_id))
    return picks


def _follower_breaks(
    conn: duckdb.DuckDBPyConnection, platforms: set[str], first: date, last: date
) -> list[tuple[str, date, str]]:
    """Days the follower series of these platforms changes definition (marts.metric_breaks).

    The file warehouse's BI copy does not carry the view (only the lake does), so a missing
    relation means no breaks to mark rather than an error.
    """
    if not platforms:
        return []
    try:
        rows = run_sql(
            conn,
            "report/follower_breaks",
            {"first": first, "last": last, "platforms": sorted(platforms)},
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [(str(p), d, str(note)) for p, d, note in rows]


@dataclass(frozen=True)
class GrowthPoint:
    """One day of a creator's growth line: the chained index and what the total holds."""

    day: date
    index: float
    total: int
    platforms: str
    counted: str


def _growth_index(conn: duckdb.DuckDBPyConnection, creator_id: str) -> list[GrowthPoint]:
    """A creator's total followers per day as an index, 100 on the first day.

    Each day's step is the growth of the accounts counted on both that day and the day before
    (marts.creator_account_daily), so an account entering the total (its first count) or
    leaving it (hidden, or its count older than the staleness window) moves the total but
    draws no step: only the followers the data shows coming or going do.
    """
    totals = run_sql(conn, "report/creator_totals", {"creator_id": creator_id}).fetchall()
    parts: dict[date, dict[tuple[str, str], int]] = {}
    for day, platform, account_id, followers in run_sql(
        conn, "report/creator_account_counts", {"creator_id": creator_id}
    ).fetchall():
        parts.setdefault(day, {})[(str(platform), str(account_id))] = int(followers)
    points: list[GrowthPoint] = []
    previous: dict[tuple[str, str], int] = {}
    index = 100.0
    for day, total, platforms, counted in totals:
        current = parts.get(day, {})
        common = current.keys() & previous.keys()
        before = sum(previous[key] for key in common)
        if points and before > 0:
            index *= sum(current[key] for key in common) / before
        points.append(GrowthPoint(day, index, int(total), str(platforms), str(counted)))
        previous = current
    return points


def _growth_chart(conn: duckdb.DuckDBPyConnection, go: ModuleType, latest: date) -> Chart:
    picks = _growth_picks(conn, latest)
    chart = Chart(
        "growth",
        "Follower growth of selected creators",
        "Total followers across platforms per day (marts.creator_daily: each account's latest"
        " count within the staleness window), indexed to 100 on each creator's first day; a"
        " day's step is the growth of the accounts counted on both days, so an account joining"
        " or leaving the total draws no step. The micro creators with the highest engagement"
        " and the creators that grew most. Dotted lines mark follower-definition breaks"
        " (marts.metric_breaks).",
        None,
        "No creator has follower counts yet.",
    )
    if not picks:
        return chart
    fig = go.Figure()
    platforms: set[str] = set()
    days: list[date] = []
    for creator_id, why in picks:
        points = _growth_index(conn, creator_id)
        if not points:
            continue
        fig.add_trace(
            go.Scatter(
                name=f"{creator_id} ({why})",
                mode="lines",
                x=[p.day for p in points],
                y=[p.index for p in points],
                customdata=[[p.total, p.platforms, p.counted] for p in points],
                hovertemplate=creator_id + " %{x|%Y-%m-%d}<br>index %{y:.1f}"
                "<br>followers %{customdata[0]:,} (%{customdata[1]})"
                "<br>counted: %{customdata[2]}<extra></extra>",
            )
        )
        days.extend((points[0].day, points[-1].day))
        platforms.update(p for point in points for p in point.platforms.split(",") if p)
    if not days:
        return chart
    for platform, day, note in _follower_breaks(conn, platforms, min(days), max(days)):
        # a break is a change of definition, not growth: a dotted line says so
        fig.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=day,
            x1=day,
            y0=0,
            y1=1,
            line={"color": "#555", "dash": "dot", "width": 1},
        )
        fig.add_annotation(
            x=day,
            xref="x",
            y=1,
            yref="paper",
            yanchor="bottom",
            text=f"{platform} followers break",
            hovertext=note,
            showarrow=False,
            font={"size": 10, "color": "#555"},
        )
    _layout(fig, height=400, yaxis_title="total followers (first day = 100)")
    return replace(chart, figure=fig)


def _spike_chart(conn: duckdb.DuckDBPyConnection, go: ModuleType) -> Chart:
    flagged = run_sql(conn, "report/flagged_spikes", {"n": SPIKE_TABLE_ROWS}).fetchall()
    shown: list[tuple[str, str, str]] = []
    for platform, account_id, handle, *_ in flagged:
        key = (str(platform), str(account_id), str(handle))
        if key not in shown and len(shown) < SPIKE_ACCOUNTS:
            shown.append(key)
    fig = None
    if flagged:
        fig = go.Figure()
        for platform, account_id, handle in shown:
            rows = run_sql(
                conn, "report/spike_scores", {"platform": platform, "account_id": account_id}
            ).fetchall()
            fig.add_trace(
                go.Scatter(
                    name=f"{handle} ({platform})",
                    mode="lines",
                    x=[d for d, _ in rows],
                    y=[s for _, s in rows],
                    line={"width": 1.5},
                    hovertemplate="%{x|%Y-%m-%d} score %{y:.1f}<extra>" + handle + "</extra>",
                )
            )
        fig.add_trace(
            go.Scatter(
                name="flagged day",
                mode="markers",
                x=[d for _, _, _, d, *_ in flagged],
                y=[s for *_, s, _ in flagged],
                text=[f"{h} ({p})" for p, _, h, *_ in flagged],
                customdata=[[c, m, mad, t] for *_, c, m, mad, _, t in flagged],
                marker={"color": SPIKE_COLOUR, "size": 11, "symbol": "diamond"},
                hovertemplate="%{text} %{x|%Y-%m-%d}<br>score %{y:.1f}"
                " (threshold %{customdata[3]})<br>change %{customdata[0]:+,}"
                "<br>median %{customdata[1]:,.1f}, MAD %{customdata[2]:,.1f}<extra></extra>",
            )
        )
        for threshold in sorted({float(t) for *_, t in flagged}):
            fig.add_hline(
                y=threshold,
                line={"color": SPIKE_COLOUR, "dash": "dash", "width": 1},
                annotation_text=f"threshold {threshold:g}",
                annotation_position="top left",
            )
        _layout(fig, height=400, yaxis_title="robust score")
    table = "".join(
        f"<tr><td>{escape(str(p))}</td><td>{escape(str(h))}</td><td>{d}</td>"
        f"<td>{c:+,}</td><td>{m:,.1f}</td><td>{mad:,.1f}</td><td>{s:,.1f}</td><td>{t:g}</td></tr>"
        for p, _, h, d, c, m, mad, s, t in flagged
    )
    extra = (
        "<table><tr><th>platform</th><th>account</th><th>day</th><th>change</th>"
        "<th>median</th><th>MAD</th><th>score</th><th>threshold</th></tr>" + table + "</table>"
        if flagged
        else ""
    )
    return Chart(
        "spikes",
        "Flagged follower spikes",
        "Daily follower change against the account's trailing 28 days (anomaly_spike_mad_v1):"
        " score = (change - median) / max(1.4826 MAD, 0.1% of followers, rounding step, 1);"
        " lines are the scores of the flagged accounts, red diamonds the flagged days.",
        fig,
        "No follower spike flagged.",
        extra,
    )


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Creator metrics report</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }}
section {{ margin-bottom: 32px; max-width: 1100px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-bottom: 4px; }}
.note {{ color: #666; margin-top: 0; }}
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
