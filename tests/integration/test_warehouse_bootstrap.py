"""The warehouse bootstrap: idempotent, least privilege, and clear errors on bad configuration."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import psycopg
import pytest
from psycopg import sql

from lowincome.warehouse import ROLE_GRANTS, SCHEMAS, bootstrap


def _objects(conn):
    return conn.execute(
        """select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = any(%s) order by 1, 2""", (list(SCHEMAS),)
    ).fetchall()


def test_bootstrap_twice_changes_nothing(conn):
    bootstrap(conn)
    before = _objects(conn)
    grants_before = conn.execute("select count(*) from information_schema.role_table_grants").fetchone()
    bootstrap(conn)
    assert _objects(conn) == before
    assert conn.execute("select count(*) from information_schema.role_table_grants").fetchone() == grants_before
    assert {s for (s,) in conn.execute("select nspname from pg_namespace")} >= set(SCHEMAS)


def _household_key_indexes(conn) -> dict[str, str]:
    return dict(conn.execute("""select tablename, indexdef from pg_indexes
                                where schemaname = 'raw' and indexname like '%%household_key_idx'""").fetchall())


def test_household_key_lookups_use_hash_indexes_and_an_older_btree_is_replaced(conn):
    indexes = _household_key_indexes(conn)
    assert set(indexes) == {"households", "household_income", "program_participation", "relocations"}
    assert all("USING hash (household_key)" in d for d in indexes.values()), indexes
    # a warehouse bootstrapped by an earlier version has a btree there
    conn.execute("drop index raw.households_household_key_idx")
    conn.execute("create index households_household_key_idx on raw.households (household_key)")
    assert "USING btree" in _household_key_indexes(conn)["households"]
    bootstrap(conn)
    assert _household_key_indexes(conn) == indexes


def test_village_code_lookups_of_cross_file_validation_are_indexed(conn):
    # from_village_other_county probes raw.households and raw.villages by village code for every
    # relocation row: unindexed, a province-year's register made one file's validation take minutes
    found = {table for (table,) in conn.execute(
        "select tablename from pg_indexes where schemaname = 'raw' and indexdef like '%%(village_code)'")}
    assert found == {"households", "villages"}


def test_every_role_exists(conn):
    present = {r for (r,) in conn.execute("select rolname from pg_roles where rolname like 'lowincome_%%'")}
    assert set(ROLE_GRANTS) <= present


@pytest.fixture
def login_as(cfg, conn):
    """A throwaway login role in one of the group roles; yields a connect function."""
    created = []

    def _login(group: str) -> psycopg.Connection:
        name = f"t_{group}_{uuid.uuid4().hex[:6]}"
        password = uuid.uuid4().hex
        conn.execute(sql.SQL("create role {} login password {} in role {}").format(
            sql.Identifier(name), sql.Literal(password), sql.Identifier(group)))
        created.append(name)
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(cfg.warehouse_url())
        netloc = f"{name}:{password}@{parts.hostname}:{parts.port or 5432}"
        return psycopg.connect(urlunsplit((parts.scheme, netloc, parts.path, "", "")), autocommit=True)

    yield _login
    for name in created:
        conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


@pytest.mark.parametrize("table", ["raw.households", "ops.submissions", "ops.rejected_rows"])
def test_bi_role_cannot_read_raw_or_ops(login_as, table):
    with login_as("lowincome_bi") as bi, pytest.raises(psycopg.errors.InsufficientPrivilege):
        bi.execute(f"select * from {table} limit 1")


def test_bi_role_reads_marts(conn, login_as):
    conn.execute("create table if not exists marts._bi_probe (x int)")
    from lowincome.warehouse import reapply_grants

    reapply_grants(conn)
    with login_as("lowincome_bi") as bi:
        assert bi.execute("select count(*) from marts._bi_probe").fetchone() == (0,)
    conn.execute("drop table marts._bi_probe")


def test_loader_writes_raw_but_cannot_read_it(login_as):
    with login_as("lowincome_loader") as loader:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            loader.execute("select * from raw.households limit 1")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            loader.execute("create table marts.intruder (x int)")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lowincome.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_unreachable_warehouse_url_is_one_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    password = uuid.uuid4().hex
    line = _one_line_error(_cli("status", env={"LOWINCOME_WAREHOUSE_URL": f"postgresql://u:{password}@127.0.0.1:{port}/x"}))
    assert "cannot reach the warehouse" in line and password not in line


def test_embedded_port_in_use_is_one_line(tmp_path):
    env = {"LOWINCOME_WAREHOUSE_URL": "", "LOWINCOME_STATE_DIR": str(tmp_path / "state")}
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        env["LOWINCOME_PG_PORT"] = str(blocker.getsockname()[1])
        line = _one_line_error(_cli("db", "start", env=env))
    assert "in use" in line and "LOWINCOME_PG_PORT" in line


def test_stale_lock_file_is_cleared_and_server_starts(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"LOWINCOME_WAREHOUSE_URL": "", "LOWINCOME_STATE_DIR": str(tmp_path / "state"),
           "LOWINCOME_PG_PORT": str(port)}
    try:
        assert _cli("db", "start", env=env).returncode == 0
        assert _cli("db", "stop", env=env).returncode == 0
        pidfile = tmp_path / "state" / "pgdata" / "postmaster.pid"
        # What a power cut leaves: a lock naming a process that no longer exists.
        pidfile.write_text(f"999999\n{pidfile.parent}\n0\n{port}\n\n127.0.0.1\n0 0\nready\n")
        result = _cli("db", "start", env=env)
        assert result.returncode == 0, result.stderr
        assert "running" in _cli("db", "status", env=env).stdout
    finally:
        _cli("db", "stop", env=env)
