"""Data Docs: GX's own page per audited suite, and an index of every audit beside the warehouse."""

from __future__ import annotations

import html
import json
import os
import shutil
import warnings
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from ingest.config import Settings

DOCS_FOLDER = "data_docs"


def docs_root(settings: Settings) -> Path:
    """Where Data Docs go: ``data_docs/`` beside the warehouse file."""
    return settings.warehouse.parent / DOCS_FOLDER


def render_page(
    settings: Settings,
    load_id: str,
    suite: str,
    gx_result: Any,
    *,
    loads: list[str] | None = None,
    failed: list[str] | None = None,
) -> Path:
    """Render one merged validation result with GX's own Data Docs renderer.

    A run-wide audit passes the loads it covered and those that failed a critical expectation.
    """
    import great_expectations
    from great_expectations.render.renderer.page_renderer import ValidationResultsPageRenderer

    root = docs_root(settings)
    static = root / "static"
    if not static.exists():
        source = Path(str(great_expectations.__file__)).parent / "render" / "view" / "static"
        shutil.copytree(source, static, dirs_exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    # four levels deep, like GX's own site, so its relative links reach index.html and static/
    page = root / "validations" / suite / load_id / stamp / "audit.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = ValidationResultsPageRenderer().render(gx_result)
        rendered = _page_view().render(document)
        page.write_text(rendered, encoding="utf-8")
    with (root / "audits.jsonl").open("a", encoding="utf-8") as index:
        index.write(
            json.dumps(
                {
                    "load_id": load_id,
                    "suite": suite,
                    "success": bool(gx_result.success),
                    "statistics": gx_result.statistics,
                    "checked_at": stamp,
                    "page": page.relative_to(root).as_posix(),
                    "load_ids": loads or [load_id],
                    "failed_load_ids": failed or [],
                }
            )
            + "\n"
        )
    return page


@cache
def _page_view() -> Any:
    """GX's page view, one per process: its Jinja environment compiles each template once.

    A new view per page compiled GX's templates (about 17 of them) again for every page.
    """
    from great_expectations.render.view.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


def _loads_cell(entry: dict[str, Any]) -> str:
    """A run's loads under its label: the blocked ones named, the rest folded away."""
    loads = entry.get("load_ids") or []
    if len(loads) <= 1:
        return ""
    failed = entry.get("failed_load_ids") or []
    shown = "".join(f"<br><b>failed</b> {html.escape(x)}" for x in failed)
    listed = "<br>".join(html.escape(x) for x in loads)
    return f"{shown}<details><summary>{len(loads)} loads</summary>{listed}</details>"


def write_index(settings: Settings) -> Path:
    """``index.html``: every audit rendered so far, newest first, linking GX's pages."""
    root = docs_root(settings)
    entries = []
    log_path = root / "audits.jsonl"
    if log_path.exists():
        for line in log_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entries.append(json.loads(line))
    entries.sort(key=lambda e: e["checked_at"], reverse=True)
    rows = "\n".join(
        "<tr><td>{checked}</td><td>{load}{loads}</td><td>{suite}</td>"
        "<td class='{cls}'>{verdict}</td>"
        "<td>{ok}/{total}</td><td><a href='{page}'>results</a></td></tr>".format(
            checked=html.escape(e["checked_at"]),
            load=html.escape(e["load_id"]),
            loads=_loads_cell(e),
            suite=html.escape(e["suite"]),
            cls="ok" if e["success"] else "fail",
            verdict="passed" if e["success"] else "failed",
            ok=e["statistics"].get("successful_expectations", ""),
            total=e["statistics"].get("evaluated_expectations", ""),
            page=html.escape(e["page"]),
        )
        for e in entries
    )
    page = root / "index.html"
    tmp = page.with_suffix(".tmp")
    tmp.write_text(
        "<!doctype html><meta charset='utf-8'><title>Data Docs: audits</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:left}"
        ".ok{color:#060}.fail{color:#b00;font-weight:bold}</style>"
        "<h1>Audits</h1><p>Great Expectations results of every audited load and mart rebuild"
        " (suites in <code>src/ingest/expectations/</code>; also in <code>meta.validations</code>)."
        "</p><table><tr><th>checked</th><th>load</th><th>suite</th><th>result</th>"
        f"<th>expectations met</th><th></th></tr>\n{rows}\n</table>\n",
        encoding="utf-8",
    )
    os.replace(tmp, page)
    return page
