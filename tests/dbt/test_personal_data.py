"""Names and ID numbers never leave raw: no column of staging, intermediate, warehouse, snapshots or marts
is named after them or holds one of their values."""

from __future__ import annotations

import pytest
import raw_fixture
from psycopg import sql

pytestmark = pytest.mark.slow

SCANNED_SCHEMAS = ("ops", "staging", "intermediate", "warehouse", "snapshots", "marts")
PERSONAL_COLUMNS = {"head_name", "head_id_number", "household_id", "relocation_id"}


def _columns(conn) -> list[tuple[str, str, str]]:
    return conn.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema = any(%s) order by 1, 2, 3", (list(SCANNED_SCHEMAS),)).fetchall()


def find_leaks(conn) -> list[str]:
    """Every column outside raw that holds a head's name or ID number (an ID number also inside a value)."""
    names, id_numbers = raw_fixture.personal_values(conn)
    assert names and id_numbers
    leaks = []
    for schema, table, column in _columns(conn):
        found = conn.execute(
            sql.SQL("select exists (select 1 from {rel} where {col}::text = any(%s) or {col}::text ~ %s)").format(
                rel=sql.Identifier(schema, table), col=sql.Identifier(column)),
            (sorted(names), "|".join(sorted(id_numbers))),
        ).fetchone()[0]
        if found:
            leaks.append(f"{schema}.{table}.{column}")
    return leaks


def test_no_column_is_named_after_personal_data(built_warehouse):
    with built_warehouse.connect() as conn:
        named = [c for c in _columns(conn) if c[2] in PERSONAL_COLUMNS]
        scanned_schemas = {c[0] for c in _columns(conn)}
    assert named == []
    assert scanned_schemas >= {"staging", "warehouse", "snapshots"}


def test_no_value_is_a_name_or_an_id_number(built_warehouse):
    with built_warehouse.connect() as conn:
        assert len(_columns(conn)) > 150
        assert find_leaks(conn) == []


def test_the_scan_catches_a_leak(built_warehouse):
    with built_warehouse.connect() as conn:
        conn.execute("create view intermediate.leak_probe as"
                     " select head_name as note, 'id ' || head_id_number as remark from raw.households")
        try:
            leaks = find_leaks(conn)
        finally:
            conn.execute("drop view intermediate.leak_probe")
    assert leaks == ["intermediate.leak_probe.note", "intermediate.leak_probe.remark"]


def test_published_pages_hold_no_name_or_id_number(built_warehouse):
    """The HTML report and the dbt docs site (its catalog and manifest) quote no name or ID number."""
    from lowincome.publish import write_report
    from lowincome.transform import build_docs

    cfg = built_warehouse.cfg
    pages = [write_report(cfg), build_docs(cfg)]
    files = [f for page in pages for f in page.parent.rglob("*") if f.is_file()
             and f.suffix in (".html", ".json", ".js", ".svg", ".csv")]
    assert any(f.name == "index.html" for f in files) and len(files) >= 2
    with built_warehouse.connect() as conn:
        names, id_numbers = raw_fixture.personal_values(conn)
        counties = {r[0] for r in conn.execute(
            "select distinct c.county_name from warehouse.dim_county c"
            " join warehouse.fct_household_income f on f.county_code = c.county_code")}
    report = pages[0].read_text(encoding="utf-8")
    assert counties and any(c in report for c in counties), "the scan reads a report of the fixture's counties"
    leaks = [f"{f.name}: {value}" for f in files for text in [f.read_text(encoding="utf-8", errors="replace")]
             for value in sorted(names | id_numbers) if value in text]
    assert leaks == []
