"""A throwaway PostgreSQL cluster for the tests that name one, started once per session.

The cluster lives in a temporary folder owned by the ``postgres`` user (PostgreSQL refuses to
run as root, and CI runs as root), listens on a free loopback port only, and is stopped and
removed afterwards whatever happens. Each user of it creates a database of its own, so tests
never share state: DuckLake catalogs and the real Airflow's metadata alike.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin/initdb):"
            " `make pytest` installs them; or apt-get install postgresql"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    bindir: Path
    root: Path
    port: int
    as_postgres: list[str]
    names: Iterator[int]

    def run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def conninfo(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user=postgres"

    def new_database(self, prefix: str = "lake") -> str:
        name = f"{prefix}_{next(self.names)}"
        self.run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
            "postgres", name,
        )  # fmt: skip
        return name


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bindir = _bindir()
    # why: not under pytest's tmp folders, which are private to root and closed to postgres
    root = Path(tempfile.mkdtemp(prefix="ingest-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    server = Postgres(bindir, root, _free_port(), as_postgres, itertools.count(1))
    data = root / "data"
    started = False
    try:
        server.run(
            str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        started = True
        server.run(
            str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        yield server
    finally:
        try:
            if started:
                subprocess.run(
                    [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                     "-t", "60", "stop"],
                    capture_output=True, timeout=120, check=False,
                )  # fmt: skip
        finally:
            shutil.rmtree(root, ignore_errors=True)
