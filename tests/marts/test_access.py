"""Who reads what, with real login roles on the session's server.

* lowincome_bi reads every row of ``marts`` and nothing in any other schema;
* a county's account (granted ``lowincome_county_<code>``) reads its own county's rows and the city, group
  (the 29, the 12) and province rows that everyone reads, never another county's;
* a login with neither reads nothing.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from fixture_data import A, B
from psycopg import sql

from lowincome.publish import grant_county_access
from lowincome.warehouse import SCHEMAS

pytestmark = pytest.mark.slow


@contextmanager
def login_role(published, *member_of: str) -> Iterator[str]:
    """A real LOGIN role (dropped afterwards); yields its connection URL."""
    name = f"test_login_{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(16)
    with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(name), sql.Literal(password)))
        for role in member_of:
            admin.execute(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(name)))
        parts = urlsplit(published.warehouse_url())
        netloc = f"{quote(name)}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
        try:
            yield urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), name
        finally:
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


def _tables(published, schema: str) -> list[str]:
    with psycopg.connect(published.warehouse_url()) as admin:
        return [t for (t,) in admin.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p') order by 1", (schema,))]


def test_bi_reads_every_mart_row_and_nothing_else(published):
    with login_role(published, "lowincome_bi") as (url, _name), psycopg.connect(url, autocommit=True) as bi:
        for table in _tables(published, "marts"):
            bi.execute(sql.SQL("select * from marts.{} limit 1").format(sql.Identifier(table)))
        counties = bi.execute("select count(distinct geography_code) from marts.target_attainment "
                              "where geography_level = 'county'").fetchone()[0]
        assert counties > 5
        denied = 0
        for schema in SCHEMAS:
            if schema == "marts":
                continue
            assert not bi.execute("select has_schema_privilege(%s, 'usage')", (schema,)).fetchone()[0], schema
            for table in _tables(published, schema):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    bi.execute(sql.SQL("select 1 from {} limit 1").format(sql.Identifier(schema, table)))
                denied += 1
        assert denied > 20   # raw, ops, staging, warehouse … all tried
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("create table marts.scratch (x int)")


def test_a_county_account_sees_its_own_county_and_the_levels_above(published):
    with login_role(published) as (url, name):
        with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
            grant_county_access(admin, A, name)
        with psycopg.connect(url, autocommit=True) as county:
            seen = 0
            for table in _tables(published, "marts"):
                columns = {c for (c,) in county.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = %s", (table,))}
                if {"geography_level", "geography_code"} <= columns:
                    rows = county.execute(sql.SQL("select distinct geography_level, geography_code from {}").format(
                        sql.Identifier("marts", table))).fetchall()
                    assert {code for level, code in rows if level == "county"} <= {A}, table
                    with psycopg.connect(published.warehouse_url()) as admin:
                        above = admin.execute(sql.SQL(
                            "select distinct geography_level, geography_code from {} where geography_level <> 'county'"
                        ).format(sql.Identifier("marts", table))).fetchall()
                    assert {row for row in rows if row[0] != "county"} == set(above), table
                    seen += len(rows)
                elif "county_code" in columns:
                    rows = county.execute(sql.SQL("select distinct county_code from {}").format(
                        sql.Identifier("marts", table))).fetchall()
                    assert set(rows) <= {(A,)}, table
                    seen += len(rows)
            assert seen >= 8
            assert county.execute("select count(*) from marts.target_attainment "
                                  "where geography_code = %s", (B,)).fetchone()[0] == 0
            # what it compares itself with: the 29, the 12, its city and the province, every year
            levels = {level for (level,) in county.execute(
                "select distinct geography_level from marts.target_attainment")}
            assert {"county", "city", "province"} <= levels and levels & {"group29", "group12"}, levels
            own = county.execute("select count(*) from marts.target_attainment where geography_code = %s",
                                 (A,)).fetchone()[0]
            assert own > 20
            # the as-of functions run with the caller's rights: the same rows only
            as_of = county.execute("select distinct geography_code from marts.target_attainment_as_of(now())"
                                   " where geography_level = 'county'")
            assert as_of.fetchall() == [(A,)]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                county.execute("select 1 from warehouse.fct_household_income limit 1")


def test_a_login_without_a_role_reads_no_mart(published):
    with login_role(published) as (url, _name), psycopg.connect(url, autocommit=True) as nobody:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            nobody.execute("select 1 from marts.target_attainment limit 1")


def test_granting_an_unknown_county_says_what_to_do(published):
    from lowincome.errors import UserError

    with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
        with pytest.raises(UserError, match="6-digit county code"):
            grant_county_access(admin, "33080", "whoever")
        with pytest.raises(UserError, match="does not exist"):
            grant_county_access(admin, "339999", "whoever")


_SHADOW_PG_ROLES = (
    "create temp table pg_roles as select current_user::name as rolname, true as rolsuper,"
    " (select oid from pg_catalog.pg_roles where rolname = current_user) as oid")


def test_a_county_login_may_not_create_temporary_tables(published):
    with login_role(published) as (url, name):
        with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
            grant_county_access(admin, A, name)
        with psycopg.connect(url, autocommit=True) as county, pytest.raises(psycopg.errors.InsufficientPrivilege):
            county.execute(_SHADOW_PG_ROLES)


def test_a_temporary_pg_roles_does_not_widen_a_county_login(published):
    """The attack of issue 27: a temp table named pg_roles made reads_all_rows() true for any login.

    TEMP is granted to this login on purpose, to prove the functions themselves resist the shadow.
    """
    with login_role(published) as (url, name):
        with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
            grant_county_access(admin, A, name)
            database = admin.execute("select current_database()").fetchone()[0]
            admin.execute(sql.SQL("grant temporary on database {} to {}").format(
                sql.Identifier(database), sql.Identifier(name)))
        with psycopg.connect(url, autocommit=True) as county:
            county.execute(_SHADOW_PG_ROLES)
            assert county.execute("select rolsuper from pg_roles").fetchone() == (True,)  # the shadow is there
            assert county.execute("select marts.reads_all_rows()").fetchone() == (False,)
            assert county.execute("select marts.readable_counties()").fetchone() == ([A],)
            for query in ("select distinct geography_code from marts.target_attainment"
                          " where geography_level = 'county'",
                          "select distinct geography_code from marts.target_attainment_as_of(now())"
                          " where geography_level = 'county'",
                          "select distinct geography_code from marts.indicator_values_as_of(now())"
                          " where geography_level = 'county'"):
                assert county.execute(query).fetchall() == [(A,)], query
            rows = county.execute("select distinct county_code from marts.submission_completeness").fetchall()
            assert set(rows) <= {(A,)}
        with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
            admin.execute(sql.SQL("revoke temporary on database {} from {}").format(
                sql.Identifier(database), sql.Identifier(name)))
            # the login's temporary table goes with its backend, which ends just after the client closed
            for _ in range(100):
                if not admin.execute("select 1 from pg_stat_activity where usename = %s", (name,)).fetchone():
                    break
                time.sleep(0.05)


def test_every_function_of_the_project_pins_its_search_path(published):
    """A function without a pinned search_path resolves names in the caller's temp schema first."""
    with psycopg.connect(published.warehouse_url(), autocommit=True) as admin:
        functions = admin.execute(
            """
            select n.nspname || '.' || p.proname, coalesce(array_to_string(p.proconfig, ' '), '')
            from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
            where n.nspname = any(%s)
                and not exists (select 1 from pg_depend as d where d.objid = p.oid and d.deptype = 'e')
            """, (list(SCHEMAS),)).fetchall()
    assert len(functions) >= 4      # reads_all_rows, readable_counties and the two *_as_of at least
    unpinned = [name for name, config in functions if "search_path=pg_catalog, pg_temp" not in config]
    assert unpinned == []
