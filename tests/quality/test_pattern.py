"""The code-pattern expectation tests what the regex says, in PostgreSQL, for every pattern of the contract.

``matches_sql`` rewrites ``^x{m,n}$``-shaped patterns as a length test plus an unbounded regex (faster in
PostgreSQL's regex engine); these tests hold it to the regex itself, value by value, in the server.
"""

from __future__ import annotations

import itertools

import pytest

from lowincome.quality.expectations import length_form, matches_sql
from lowincome.templates import template, templates

CONTRACT_PATTERNS = sorted({c.pattern for name in templates() for c in template(name).columns if c.pattern})
OTHER_PATTERNS = [
    r"^[A-Z]{2,4}$", r"^R\d{0,3}$", r"^\d{3}-[0-9X]$", r"^a{3}$", r"^[^0-9]{2}x$", r"^\w{1,5}$", r"^[a']{2}$",
    # not of the rewritten shape: tested as written
    r"^\d{3}[A-Z]{2}$", r"^(ab){2}$", r"^[0-9]+$", r"^\d{6}", r"\d{6}$", r"^a|b{2}$", r"^.{2}$",
]
PROBES = ["", "1", "12", "123", "1234", "123456", "1234567", "12345678901", "123456789012", "1234567890123",
          "12345678901234567", "123456789012345678", "12345678901234567X", "12345678901234567x",
          "1234567890123456XX", "X23456789012345678", "H0001", "330803-000001", "a" * 31, "a" * 32, "a" * 33,
          "户 1", "户编号", "１２３４５６", "3.30802E+17", "A-_b9", "ab-", "AB", "ABCD", "ABCDE", "aaa", "aaaa",
          "R", "R1", "R123", "R1234", "123-X", "123-4", "123-45", "xyx", "12x", "abx", "abcde", "abcdef", "ABC12",
          "abab", "ab", "123AB", "bb", "a'", "''", "a\nb", "12\n34"]


def test_the_contract_patterns_take_the_fast_form():
    assert length_form(r"^\d{6}$") == (6, 6, r"^\d+$")
    assert length_form(r"^\d{17}[\dX]$") == (18, 18, r"^\d+[\dX]$")
    assert length_form(r"^[0-9A-Za-z_-]{1,32}$") == (1, 32, r"^[0-9A-Za-z_-]+$")
    assert length_form(r"^R\d{0,3}$") == (1, 4, r"^R\d*$")
    for pattern in CONTRACT_PATTERNS:
        assert length_form(pattern) is not None, pattern


@pytest.mark.parametrize("pattern", [r"^\d{3}[A-Z]{2}$", r"^(ab){2}$", r"^[0-9]+$", r"^\d{6}", r"^a|b{2}$",
                                     r"^.{2}$", r"^[]a]{2}$", r"^\d{3,2}$", r"^\d{2}\$"])
def test_other_shapes_are_left_as_written(pattern):
    assert length_form(pattern) is None
    assert matches_sql("x", pattern) == f"(x ~ '{pattern}')"


@pytest.mark.parametrize("pattern", CONTRACT_PATTERNS + OTHER_PATTERNS)
def test_the_sql_says_what_the_regex_says(conn, pattern):
    values = ", ".join(f"({i}, %s)" for i in range(len(PROBES)))
    rows = conn.execute(
        f"select v, v ~ %s as regex, {matches_sql('v', pattern)} as fast from (values {values}) as t(i, v) order by i",
        [pattern, *PROBES]).fetchall()
    differ = [(value, regex, fast) for value, regex, fast in rows if regex != fast]
    assert differ == []
    assert any(regex for _v, regex, _f in rows) and not all(regex for _v, regex, _f in rows), pattern


def test_every_string_of_a_small_alphabet(conn):
    """Exhaustively, up to six characters over an alphabet that straddles each class's edge."""
    alphabet = "09aZ_-X"
    strings = ["".join(p) for n in range(7) for p in itertools.product(alphabet, repeat=n)]
    for pattern in [r"^[0-9A-Za-z_-]{1,4}$", r"^\d{2}[\dX]$", r"^a[0-9]{0,3}Z$", r"^\d{5}$"]:
        found = conn.execute(
            f"select count(*) filter (where (v ~ %s) is distinct from {matches_sql('v', pattern)}), "
            "count(*) filter (where v ~ %s) from unnest(%s::text[]) as v", [pattern, pattern, strings]).fetchone()
        assert found[0] == 0, pattern
        assert found[1] > 0, pattern
