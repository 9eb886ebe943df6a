"""SQL lives in sql/ files: names resolve, every file is used, identifiers are quoted, and one
transaction helper commits or rolls back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest

from ingest.backends import transaction
from ingest.bi_copy import COPY_RANGE_TABLES
from ingest.sqlfiles import quote_identifier, quote_literal, sql_root
from ingest.transforms import MARTS

SRC = Path(__file__).resolve().parents[1] / "src" / "ingest"
# statements that only steer the transaction may stay inline (in backends.transaction)
TRANSACTION_CONTROL = {"begin transaction", "commit", "rollback"}
# modules whose inline statements have not moved to sql/ yet
NOT_YET_MOVED = {"staging.py", "demo/__init__.py"}
# calls that take the name of a sql/ file as their first or second string argument
_FILE_CALLS = {"run_sql": 1, "read_sql": 0, "create_temp_table": 2}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _sql_file_names() -> list[tuple[Path, int, str]]:
    """(module, line, name) of every literal sql/ file name the package runs."""
    found = []
    for path in _modules():
        for call in _calls(path):
            position = _FILE_CALLS.get(_name(call) or "")
            if position is None or len(call.args) <= position:
                continue
            arg = call.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((path, call.lineno, arg.value))
            elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                # f"marts/{mart.name}": a model of a folder, named by a table of names
                found.append((path, call.lineno, f"{arg.values[0].value}*"))
    return found


def test_every_sql_name_the_package_runs_is_a_file():
    names = _sql_file_names()
    assert names, "no sql/ file is run by name: the scan proves nothing"
    missing = [
        f"{path.name}:{line}: {name}"
        for path, line, name in names
        if not (
            list(sql_root().glob(f"{name}.sql"))
            if name.endswith("*")
            else (sql_root() / f"{name}.sql").is_file()
        )
    ]
    assert not missing


def test_every_sql_file_is_run_by_the_package():
    run = {name for _, _, name in _sql_file_names() if not name.endswith("*")}
    # the models run by a loop over a table of names: the marts, their inputs, the BI ranges
    run |= {f"marts/{mart.name}" for mart in MARTS}
    run |= {f"transforms/{name}" for mart in MARTS for name in mart.inputs}
    run |= {f"bi/{name}" for name in COPY_RANGE_TABLES}
    unused = [
        name
        for f in sorted(sql_root().rglob("*.sql"))
        if f.parent.name != "migrations"
        and (name := str(f.relative_to(sql_root()).with_suffix(""))) not in run
    ]
    assert not unused


def test_fixed_statements_live_in_sql_files():
    inline = []
    for path in _modules():
        if str(path.relative_to(SRC)) in NOT_YET_MOVED:
            continue
        for call in _calls(path):
            if _name(call) not in {"execute", "executemany"} or not call.args:
                continue
            # sqlfiles.execute(conn, sql, ...) takes the statement second
            position = 1 if isinstance(call.func, ast.Name) else 0
            arg = call.args[position] if len(call.args) > position else None
            if (
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and arg.value.strip().lower() not in TRANSACTION_CONTROL
            ):
                inline.append(f"{path.relative_to(SRC)}:{call.lineno}: {arg.value[:60]}")
    assert not inline


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("creator_daily", '"creator_daily"'),
        ('odd"name', '"odd""name"'),
        ("select", '"select"'),
        ("two words; drop table x", '"two words; drop table x"'),
    ],
)
def test_quote_identifier_keeps_any_name_one_identifier(name: str, quoted: str):
    assert quote_identifier(name) == quoted
    conn = duckdb.connect()
    conn.execute(f"create table {quote_identifier(name)} as select 1 as {quote_identifier(name)}")
    assert conn.execute(
        f"select {quote_identifier(name)} from {quote_identifier(name)}"
    ).fetchall() == [(1,)]
    assert [r[0] for r in conn.execute("select table_name from duckdb_tables()").fetchall()] == [
        name
    ]


def test_quote_literal_keeps_a_path_one_string(tmp_path: Path):
    odd = tmp_path / "it's; detach x.duckdb"
    conn = duckdb.connect()
    conn.execute(f"attach {quote_literal(str(odd))} as copy")
    row = conn.execute("select path from duckdb_databases() where database_name = 'copy'")
    assert row.fetchone() == (str(odd),)


def test_transaction_commits_the_block():
    conn = duckdb.connect()
    conn.execute("create table t (x int)")
    with transaction(conn):
        conn.execute("insert into t values (1)")
    assert conn.execute("select x from t").fetchall() == [(1,)]


def test_transaction_rolls_back_on_any_error_and_leaves_the_connection_usable():
    conn = duckdb.connect()
    conn.execute("create table t (x int primary key)")
    with pytest.raises(KeyboardInterrupt), transaction(conn):
        conn.execute("insert into t values (1)")
        raise KeyboardInterrupt
    assert conn.execute("select count(*) from t").fetchone() == (0,)
    # a failing statement: the commit never runs, the transaction is ended
    with pytest.raises(duckdb.ConstraintException), transaction(conn):
        conn.execute("insert into t values (2)")
        conn.execute("insert into t values (2)")
    assert conn.execute("select count(*) from t").fetchone() == (0,)
    with transaction(conn):
        conn.execute("insert into t values (3)")
    assert conn.execute("select x from t").fetchall() == [(3,)]


def test_no_module_keeps_its_own_quoting_helper():
    own = re.compile(r"""replace\(\s*(['"])(?:\\?["'])\1\s*,""")
    helpers = [
        str(path.relative_to(SRC))
        for path in _modules()
        if str(path.relative_to(SRC)) not in NOT_YET_MOVED | {"sqlfiles.py"}
        and own.search(path.read_text(encoding="utf-8"))
    ]
    assert not helpers
