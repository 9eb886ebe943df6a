"""Audit staged batches and rebuilt marts against the expectation suites in ``expectations/``.

Write-audit-publish: a run's staged batches are audited before anything is published
(``run_audit``), the gate records the blocked ones and checks volume with the writer connection
(``gates``), the marts a rebuild changed are audited before the BI copy takes them (``marts``),
and a published load can be audited again later (``revalidation``). The GX runner (``gx``)
validates rows read in chunks (``frames``) against the suites (``suites``); results go to
``meta.validations`` (``results``) and to Data Docs (``docs``). The tier bounds a suite checks
come from ``ingest.tiers``, the one reader of ``tier_rules.toml``.

Importing this package stays light: GX and pandas are imported on first use (nothing that
parses a DAG or runs ``ingest --help`` pays for them).

Speed (issue #9): the cost of a GX audit is in what it is handed, not in the expectations. A run
is audited once (one context, one validation per suite and chunk); only the columns a suite
names are read; columns reach pandas in the types GX compares vectorised; repetitive text is
categorical; Data Docs are rendered once per suite and run.
"""

from __future__ import annotations

from ingest.validation.docs import docs_root
from ingest.validation.gates import gate_batches
from ingest.validation.gx import preload
from ingest.validation.marts import PendingMarts, audit_marts
from ingest.validation.results import AuditReport, store_reports, store_results
from ingest.validation.revalidation import revalidate
from ingest.validation.run_audit import audit_batch, audit_batches
from ingest.validation.suites import (
    CANONICAL_SUITES,
    CRITICAL,
    MART_SUITES,
    Spec,
    load_suite,
)

__all__ = [
    "CANONICAL_SUITES",
    "CRITICAL",
    "MART_SUITES",
    "AuditReport",
    "PendingMarts",
    "Spec",
    "audit_batch",
    "audit_batches",
    "audit_marts",
    "docs_root",
    "gate_batches",
    "load_suite",
    "preload",
    "revalidate",
    "store_reports",
    "store_results",
]
