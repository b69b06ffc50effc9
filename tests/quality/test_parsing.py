"""The type test (:mod:`lowincome.parsing`) in the server, value by value, for every type of the contract.

Two oracles: on any server, a value parses exactly when it is written in the plain form and the loader's
cast (text to the raw column's type) succeeds; on PostgreSQL 16+, the test agrees with what validation
used before, ``pg_input_is_valid`` behind a regex, except for the few values listed as deliberate.
"""

from __future__ import annotations

import re

import psycopg
import pytest

from lowincome.parsing import MAX_NUMBER_CHARS, parses_sql, typed_sql
from lowincome.templates import template, templates

CONTRACT_TYPES = sorted({c.pg_type for name in templates() for c in template(name).columns
                         if c.type not in ("bool", "code", "text", "enum")})

INTEGERS = ["3", " -12 ", "+3", "-0", "0", "", " ", "+", "-", "0" * 24 + "12", "2014", "2147483647",
            "2147483648", "-2147483648", "-2147483649", "32767", "32768", "-32768", "-32769",
            "9223372036854775807", "9223372036854775808", "99999999999999999999999", "1e5", "3.0", "3.",
            "0x3", "0X1F", "0o17", "0b101", "1_000", "１２", "12\u3000", "\u300012", "\xa012", "\t12\n",
            "\v12\f", "\r12", "1 2", "--1", "+-1", "NaN", "Infinity", "12a", "a12"]
NUMBERS = ["1234.5", "1.5e3", "1.5E+3", ".5", "5.", ".", "+.5", "-.5e-3", "0", "-0.00", "NaN", "nan",
           "Infinity", "-Infinity", "inf", "0x1F", "1_000", "1,000", "1,5", "1.5.5", "¥12", "12元", "１.５",
           " 1\u3000", "1e", "e5", "1e5.5", " 1.5 ", "\t-2.25\n", "99999999999999999", "99999999999999.99",
           "99999999999999.994", "99999999999999.995", "-99999999999999.995", "999999999999.9999",
           "999999999999.99994", "999999999999.99995", "1e11", "1e12", "1e13", "1e14", "9.9999999999999994e13",
           "9.9999999999999995e13", "1e-5", "1e-999", "-1e-999", "1e999", "0e999", "0e0000005", "1e0013",
           "1e+013", "0.000001", "12345678901234.5678", "000000000000000000001.5"]
DATES = ["2014-05-01", "2013-02-29", "2012-02-29", "1900-02-29", "2000-02-29", "2100-02-29", "2014-04-31",
         "2014-04-30", "2014-06-31", "2014-12-31", "2014-13-01", "2014-00-10", "2014-01-00", "2014-01-32",
         "0000-01-01", "0001-01-01", "9999-12-31", "5/1/2014", "2014/05/01", " 2014-05-01", "2014-05-01 ",
         "2014-5-1", "20140501", "2014-05-01T00:00", "2014-05-01 00:00", "epoch", "today", "infinity", "",
         "２０１４-05-01", "2014-05-0１"]
# Where PostgreSQL's own limits differ between versions, no value parses (see lowincome.parsing).
BEYOND_LIMITS = [" " * MAX_NUMBER_CHARS + "1", "0" * MAX_NUMBER_CHARS + "1", "0." + "1" * MAX_NUMBER_CHARS,
                 "0e1000", "1e-1000", "0e1073741823", "1e0001000"]

PROBES = {"integer": INTEGERS, "smallint": INTEGERS, "bigint": INTEGERS, "date": DATES}

# The written forms, independently of the SQL: ASCII whitespace around integers and decimals, an
# exponent of at most three significant digits, ISO dates.
_WS = "[ \t\n\r\f\v]*"
FORMS = {
    "integer": re.compile(f"{_WS}[-+]?[0-9]+{_WS}"),
    "numeric": re.compile(f"{_WS}[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?0*[0-9]{{1,3}})?{_WS}"),
    "date": re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}
# What validation tested on PostgreSQL 16+ before lowincome.parsing (lowincome 2026-12, quality/expectations).
BEFORE = {
    "integer": r"^\s*[-+]?[0-9]+\s*$",
    "numeric": r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$",
    "date": r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$",
}


def _family(pg_type: str) -> str:
    return "numeric" if pg_type.startswith("numeric") else "date" if pg_type == "date" else "integer"


def _probes(pg_type: str) -> list[str]:
    return PROBES.get(pg_type, NUMBERS) + BEYOND_LIMITS


def _parses(conn: psycopg.Connection, pg_type: str, values: list[str]) -> list[bool]:
    rows = conn.execute(
        f"select {parses_sql('v', pg_type)} from unnest(%s::text[]) with ordinality as t(v, i) order by i",
        [values]).fetchall()
    return [row[0] for row in rows]


def _casts(conn: psycopg.Connection, value: str, pg_type: str) -> bool:
    """The loader's cast into raw (text to the column's type) succeeds."""
    try:
        with conn.transaction():
            conn.execute(f"select %s::text::{pg_type}", [value])
    except psycopg.errors.DataError:
        return False
    return True


def test_the_contract_uses_only_types_with_a_test():
    assert CONTRACT_TYPES == ["date", "integer", "numeric(16,2)", "numeric(16,4)", "smallint"]
    with pytest.raises(ValueError, match="no type check for 'interval'"):
        parses_sql("v", "interval")


@pytest.mark.parametrize("pg_type", CONTRACT_TYPES + ["bigint", "numeric(5,0)", "numeric(3,3)"])
def test_a_value_parses_when_written_plainly_and_the_loaders_cast_succeeds(conn, pg_type):
    """On every server version: the type test never errs, and says yes exactly when the cast will work."""
    values = _probes(pg_type)
    expected = [bool(FORMS[_family(pg_type)].fullmatch(v)) and len(v) <= MAX_NUMBER_CHARS and _casts(conn, v, pg_type)
                for v in values]
    assert dict(zip(values, _parses(conn, pg_type, values), strict=True)) == dict(zip(values, expected, strict=True))


@pytest.mark.parametrize("pg_type", CONTRACT_TYPES)
def test_the_type_test_agrees_with_pg_input_is_valid(conn, pg_type):
    """On 16+: what validation accepted with ``pg_input_is_valid`` it accepts still, value for value."""
    if conn.info.server_version < 160000:
        pytest.skip("pg_input_is_valid exists from PostgreSQL 16")
    values = PROBES.get(pg_type, NUMBERS)
    rows = conn.execute(
        "select v ~ %s and pg_input_is_valid(v, %s) from unnest(%s::text[]) with ordinality as t(v, i) order by i",
        [BEFORE[_family(pg_type)], pg_type, values]).fetchall()
    assert dict(zip(values, _parses(conn, pg_type, values), strict=True)) == {
        v: row[0] for v, row in zip(values, rows, strict=True)}
    # beyond the limits pg_input_is_valid says yes to some; they are not numbers here on any version
    assert not any(_parses(conn, pg_type, BEYOND_LIMITS))


@pytest.mark.parametrize("pg_type", CONTRACT_TYPES)
def test_null_stays_null_and_a_value_that_parses_is_typed(conn, pg_type):
    sample = {"date": "2012-02-29", "smallint": " 2014 ", "integer": "+7"}.get(pg_type, "-1.5e3")
    rows = conn.execute(f"select {parses_sql('v', pg_type)}, {typed_sql('v', pg_type)} "
                        "from (values (1, null), (2, %s), (3, 'x')) as t(i, v) order by i", [sample]).fetchall()
    row = [rows[0][0], rows[1][1], rows[2][1]]
    assert row[0] is None
    assert str(row[1]) == {"date": "2012-02-29", "smallint": "2014", "integer": "7"}.get(pg_type, "-1500")
    assert row[2] is None


def test_the_type_test_runs_in_parallel_workers(conn):
    """Plain SQL, no subtransaction: a scan with the test in it may be planned on parallel workers."""
    checks = " + ".join(f"({parses_sql('v', t)})::int" for t in CONTRACT_TYPES)
    with conn.transaction(force_rollback=True):
        conn.execute("set local parallel_setup_cost = 0")
        conn.execute("set local parallel_tuple_cost = 0")
        conn.execute("set local min_parallel_table_scan_size = 0")
        conn.execute("create table parsing_probe as select g::text as v from generate_series(1, 1000) g")
        conn.execute("analyze parsing_probe")
        plan = "\n".join(r[0] for r in conn.execute(f"explain select sum({checks}) from parsing_probe"))
    assert "Parallel Seq Scan" in plan, plan
