"""Shared machinery of the drills: killable child runs, generated inputs, warehouse fingerprints.

A crash drill needs many real ``ingest`` runs it can kill at any instant. Starting each one
as ``python -m ingest`` would spend most of the CI budget importing Great Expectations (seconds
per process), so children come from a fork server (``multiprocessing``'s ``forkserver``) that
has imported the package once: every child is a separate process running ``ingest.cli.main``
with its own argv, stdout and stderr, killable with SIGKILL like any other. The drills that test
the console script itself (SIGTERM, concurrency) start ``.venv/bin/ingest`` as a plain subprocess.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import duckdb

from tests.fingerprints import fingerprint, load_names, table_rows_by

ROOT = Path(__file__).resolve().parents[2]
INGEST = Path(sys.executable).with_name("ingest")
# the variables that would send a child's landing zone or staging somewhere shared
CLEAN_ENV: dict[str, str | None] = {
    "INGEST_WAREHOUSE": None,
    "INGEST_LANDING": None,
    "INGEST_STAGING": None,
    "INGEST_LAKE_DATA_PATH": None,
}
PRELOAD = [
    "tests.drills.harness",
    "ingest.cli",
    "ingest.pipeline",
    "ingest.transforms",
    "ingest.validation",
    "great_expectations",
    "pandas",
]
CORE_TABLES = ("core.accounts", "core.account_daily", "core.posts", "core.post_daily")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


# ---- children


_context: Any = None


def fork_context() -> Any:
    """The fork server context, with the package (and GX) imported once in the server."""
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _context = ctx
    return _context


def stop_fork_server() -> None:
    """Stop the fork server this process started (it would otherwise live until exit)."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        stop()


def _child(
    target: str, args: Sequence[str], out: str, err: str, env: dict[str, str | None]
) -> None:
    # its own process group, so one killpg takes the child and anything it started
    os.setpgrp()
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for fd, path in ((1, out), (2, err)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    code = 3
    try:
        code = CHILD_TARGETS[target](list(args))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _cli(args: list[str]) -> int:
    from ingest.cli import main

    return main(args)


def _rebuild_marts(args: list[str]) -> int:
    """A marts refresh (rebuild, audit, BI copy) on its own, as the nightly DAG runs it."""
    from ingest.config import Settings
    from ingest.runs import refresh_marts

    refresh = refresh_marts(Settings.from_env(args[0]))
    print("rebuilt" if refresh["published"] else f"held: {refresh['message']}")
    return 0 if refresh["published"] else 1


CHILD_TARGETS: dict[str, Callable[[list[str]], int]] = {"cli": _cli, "rebuild": _rebuild_marts}


@dataclass
class Child:
    """A killable child run; ``stop`` (SIGKILL to its group) is safe to call at any time."""

    process: BaseProcess
    out: Path
    err: Path
    started: float

    @property
    def pid(self) -> int:
        pid = self.process.pid
        assert pid is not None
        return pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            # the group may not exist yet (killed before setpgrp ran) or any more
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise TimeoutError(f"child {self.pid} still running after {timeout} s")
        return self.process.exitcode

    def stop(self) -> None:
        if self.process.exitcode is None:
            self.signal(signal.SIGKILL)
            self.process.join(30)

    def stdout(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def stderr(self) -> str:
        return self.err.read_text(errors="replace") if self.err.exists() else ""


def start(target: str, args: Sequence[str], logs: Path, env: dict[str, str] | None = None) -> Child:
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / "stdout.txt", logs / "stderr.txt"
    child_env: dict[str, str | None] = {**CLEAN_ENV, **(env or {})}
    process = fork_context().Process(
        target=_child, args=(target, list(args), str(out), str(err), child_env), daemon=False
    )
    process.start()
    return Child(process, out, err, time.monotonic())


def run(target: str, args: Sequence[str], logs: Path, timeout: float = 300) -> Child:
    """Start a child and let it finish."""
    child = start(target, args, logs)
    try:
        child.wait(timeout)
    finally:
        child.stop()
    return child


def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.005) -> bool:
    """Check ``condition`` until it holds or ``timeout`` passes; True when it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def cli_subprocess(
    args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The real console script in its own session (so the whole group can be killed)."""
    full_env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    full_env.update(env or {})
    return subprocess.Popen(
        [str(INGEST), *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


# ---- inputs


@dataclass(frozen=True)
class DrillInput:
    """Generated TikTok Studio exports for one account, and what they must load as."""

    account: str
    day: date
    content: Path
    overview: Path
    content_rows: int
    content_bad: int
    overview_days: int

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.content, self.overview)

    def expected_loads(self) -> dict[str, tuple[int, int, int]]:
        """source file -> (rows_read, rows_loaded, rows_quarantined)."""
        return {
            str(self.content): (
                self.content_rows,
                self.content_rows - self.content_bad,
                self.content_bad,
            ),
            str(self.overview): (self.overview_days, self.overview_days, 0),
        }

    def load_args(self, warehouse: Path) -> list[str]:
        return [
            "load",
            *map(str, self.files),
            "--account",
            self.account,
            "--date",
            self.day.isoformat(),
            "--warehouse",
            str(warehouse),
            "--json",
        ]


def write_drill_input(folder: Path, *, rows: int, seed: int, day: date, account: str) -> DrillInput:
    """A TikTok Studio content export of ``rows`` videos (some with broken links, which go
    to quarantine) and a 300-day overview of the same account."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    content = folder / "content.csv"
    bad = 0
    with content.open("w", encoding="utf-8", newline="") as out:
        out.write(
            "Video title,Post time,Video link,Total views,Total likes,Total comments,"
            "Total shares,Reach\n"
        )
        for n in range(rows):
            posted = day - timedelta(days=rng.randint(1, 200), minutes=rng.randint(0, 1439))
            views = rng.randint(0, 2_000_000)
            likes = rng.randint(0, views // 5 + 1)
            if n % 997 == 500:
                link = f"https://www.tiktok.com/@{account}/photo/broken{n}"
                bad += 1
            else:
                link = f"https://www.tiktok.com/@{account}/video/{7_300_000_000_000_000_000 + n}"
            title = f'"Video {n}, take {rng.randint(1, 9)}"'
            out.write(
                f"{title},{posted:%Y-%m-%d %H:%M:00},{link},{views},{likes},"
                f"{rng.randint(0, likes // 10 + 1)},{rng.randint(0, likes // 20 + 1)},"
                f"{rng.randint(0, views)}\n"
            )
    overview = folder / "Overview.csv"
    days = 300
    followers = rng.randint(20_000, 90_000)
    with overview.open("w", encoding="utf-8", newline="") as out:
        out.write("Date,Video Views,Profile Views,Likes,Comments,Shares,Followers\n")
        for back in range(days - 1, -1, -1):
            shown = day - timedelta(days=back)
            followers += rng.randint(-50, 400)
            out.write(
                f'"{shown:%B} {shown.day}",{rng.randint(0, 90_000)},{rng.randint(0, 900)},'
                f"{rng.randint(0, 9_000)},{rng.randint(0, 300)},{rng.randint(0, 200)},"
                f"{followers}\n"
            )
    return DrillInput(account, day, content, overview, rows, bad, days)


# ---- what a warehouse holds


def marts_fingerprint(path: Path, names: Mapping[str, str]) -> dict[str, str]:
    """Every table of the marts schema, every column (load ids named through ``names``)."""
    return fingerprint(path, names, schemas=("marts",))


@dataclass
class State:
    """The facts a drill compares: per-account core counts, fingerprints, loads, pending."""

    drill_counts: dict[str, int]
    others: dict[str, str]
    loads: list[tuple[str, str, int, int, int]]
    pending: int
    marts: dict[str, str]
    # source file -> print of its quarantined rows (load id named, quarantine time left out)
    quarantine: dict[str, str]
    # every column of meta.loads but start and finish times, load ids named by what they load
    meta_loads: str
    bi_marts: dict[str, str] | None = field(default=None)


def read_state(warehouse: Path, account: str, *, bi: Path | None = None) -> State:
    """Open the warehouse as the next run would (read-write, migrations checked) and read it.

    Opening read-write makes DuckDB replay or discard what a killed writer left in the WAL;
    failing to open here is itself the failure the drill looks for.
    """
    from ingest.warehouse import migrate, open_warehouse

    conn = open_warehouse(warehouse, busy_timeout=10)
    try:
        assert migrate(conn) == [], "a killed run left migrations half applied"
        # a checkpoint rewrites the file from the replayed state: it must go through
        conn.execute("checkpoint")
        counts = {
            t: int(
                conn.execute(
                    f"select count(*) from {t} where account_id = $a", {"a": account}
                ).fetchone()[0]  # type: ignore[index]
            )
            for t in CORE_TABLES
        }
        others = {t: _fingerprint_params(conn, t, account) for t in CORE_TABLES}
        loads = [
            (str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]))
            for r in conn.execute(
                "select source_file, status, rows_read, rows_loaded, rows_quarantined"
                " from meta.loads where account_id = $a order by started_at",
                {"a": account},
            ).fetchall()
        ]
        pending_row = conn.execute("select count(*) from meta.pending_mart_days").fetchone()
        pending = int(pending_row[0]) if pending_row else 0
    finally:
        conn.close()
    names = load_names(warehouse)
    marts = marts_fingerprint(warehouse, names)
    meta_loads = fingerprint(warehouse, names, schemas=("meta",))["meta.loads"]
    quarantine = {
        source: hashlib.sha256(repr(rows).encode()).hexdigest()[:16] + f"/{len(rows)}"
        for source, rows in table_rows_by(
            warehouse, "quarantine.rows", "source_file", names
        ).items()
    }
    bi_marts = marts_fingerprint(bi, names) if bi is not None and bi.exists() else None
    return State(counts, others, loads, pending, marts, quarantine, meta_loads, bi_marts)


def _fingerprint_params(conn: duckdb.DuckDBPyConnection, table: str, account: str) -> str:
    rows = conn.execute(
        f"select * from {table} where account_id <> $a order by all", {"a": account}
    ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16] + f"/{len(rows)}"


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
