"""Least privilege, role by role, on every relation of every schema of a built and published warehouse.

The expected grants are written out here, independently of lowincome.warehouse.ROLE_GRANTS, so that a
change there that widens a role fails this test. PostgreSQL answers for each role (has_*_privilege
follows role membership), so a county's role is checked the same way as the group roles.
"""

from __future__ import annotations

import psycopg
import pytest
from fixture_data import A

from lowincome.publish.access import county_role
from lowincome.warehouse import SCHEMAS

pytestmark = pytest.mark.slow

TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "truncate")
ALL = set(TABLE_PRIVILEGES)
EXPECTED: dict[str, dict[str, set[str]]] = {
    "lowincome_loader": {"raw": {"insert"}, "ops": {"select", "insert", "update"}},
    # dbt: reads raw (but not the personal columns, checked below) and ops, owns what it builds
    "lowincome_transformer": {"raw": {"select"}, "ops": {"select"}, "staging": ALL, "intermediate": ALL,
                              "warehouse": ALL, "snapshots": ALL, "marts": ALL},
    "lowincome_analyst": {"warehouse": {"select"}, "marts": {"select"}, "ops": {"select"}},
    "lowincome_bi": {"marts": {"select"}},
    county_role(A): {"marts": {"select"}},          # and only its own rows: tests/marts/test_access.py
}
PERSONAL = {"households": ("head_name", "head_id_number")}


def _relations(conn: psycopg.Connection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {s: [] for s in SCHEMAS}
    for schema, name in conn.execute(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p') order by 1, 2", (list(SCHEMAS),)):
        found[schema].append(name)
    return found


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_has_exactly_its_privileges_on_every_schema(published, role):
    wrong = []
    with psycopg.connect(published.warehouse_url(), autocommit=True) as conn:
        relations = _relations(conn)
        assert all(relations[s] for s in ("raw", "ops", "staging", "warehouse", "marts")), relations
        for schema in SCHEMAS:
            expected = EXPECTED[role].get(schema, set())
            usage, create = conn.execute("select has_schema_privilege(%s, %s, 'usage'),"
                                         " has_schema_privilege(%s, %s, 'create')",
                                         (role, schema, role, schema)).fetchone()
            if usage != bool(expected) or create != (expected == ALL):
                wrong.append(f"{schema}: usage {usage}, create {create}")
            for name in relations[schema]:
                relation = f'"{schema}"."{name}"'
                for privilege in TABLE_PRIVILEGES:
                    if schema == "raw" and privilege == "select" and name in PERSONAL:
                        continue  # column privileges: the next test
                    has = conn.execute("select has_table_privilege(%s, %s, %s)",
                                       (role, relation, privilege)).fetchone()[0]
                    if has != (privilege in expected):
                        wrong.append(f"{schema}.{name}: {privilege} {has}")
    assert wrong == []


def test_nobody_but_the_owner_reads_names_or_id_numbers(published):
    with psycopg.connect(published.warehouse_url(), autocommit=True) as conn:
        owner = conn.execute("select tableowner from pg_tables where schemaname = 'raw' and tablename = 'households'"
                             ).fetchone()[0]
        roles = [r for (r,) in conn.execute("select rolname from pg_roles where not rolsuper and rolname <> %s"
                                            " and rolname not like 'pg\\_%%'", (owner,))]
        assert set(EXPECTED) <= set(roles)
        readers = [(role, table, column) for role in roles for table, columns in PERSONAL.items() for column in columns
                   if conn.execute("select has_column_privilege(%s, %s, %s, 'select')",
                                   (role, f"raw.{table}", column)).fetchone()[0]]
        # dbt's role still reads the rest of the register
        assert conn.execute("select has_column_privilege('lowincome_transformer', 'raw.households',"
                            " 'household_key', 'select')").fetchone()[0]
    assert readers == []
