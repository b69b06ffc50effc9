"""When a cell's text parses as its column's type: the SQL of that test, one definition for validation and
the loader, the same on every supported PostgreSQL (15 to 18).

``pg_input_is_valid`` (PostgreSQL 16+) asked the server's own input functions; those read more on newer
servers ('0x1F', '1_000' are integers from 16 on) and the function is missing on 15. The test here is
plain SQL: a regex of the written form (what a county writes), then the value checked against the
type's limits with casts that cannot fail once the regex matched. It runs in the server's parallel
workers like any expression (a PL/pgSQL function that traps a failed cast would open a subtransaction
per value and have to be marked parallel unsafe, which takes the validation scan off the workers).

What parses (cells are never NULL here; NULL stays NULL):

* integer, smallint, bigint: optional ASCII whitespace, one sign, decimal digits, within the type's range;
* numeric(p,s): a plain decimal with an optional exponent of at most three digits ('1.5e3'; never
  'NaN', 'Infinity', '0x1F', '1_000'), whose value rounded to s decimals is below 10^(p-s);
* date: exactly YYYY-MM-DD, a day that exists in the proleptic Gregorian calendar (year 0001 on).

A cell of more than :data:`MAX_NUMBER_CHARS` characters is not a number (nor one with a longer exponent):
beyond that PostgreSQL's own limits differ between versions ('0e1073741823' is 0 on 18 and an error on
15). Everywhere else the test agrees with ``pg_input_is_valid`` on the embedded server (tests/quality).
"""

from __future__ import annotations

# ASCII whitespace: what PostgreSQL's integer and numeric input skip around a value (isspace). A class
# written out, not \s, which also matches U+3000 and U+00A0 under some locales.
_WS = r"[ \t\n\r\f\v]"
ISO_DATE_RE = r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$"
DECIMAL_RE = rf"^{_WS}*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?{_WS}*$"
INTEGER_RE = rf"^{_WS}*[-+]?[0-9]+{_WS}*$"
# An exponent of at most three significant digits, at the end of a value DECIMAL_RE matched.
_SHORT_EXPONENT_RE = rf"[eE][-+]?0*[0-9]?[0-9]?[0-9]{_WS}*$"

# Within this many characters (and a three-digit exponent) a cast to numeric cannot overflow
# numeric's own format (131,072 digits before the point, 16,383 after) on any version.
MAX_NUMBER_CHARS = 10_000

INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def parses_sql(ref: str, pg_type: str) -> str:
    """SQL: the text in ``ref`` parses as ``pg_type`` (as the loader will cast it into raw).

    Every test is a CASE: its branches run in order, so no cast is attempted on text that would fail
    it, wherever the planner places the expression (a WHERE clause's ANDs it may reorder)."""
    if pg_type == "date":
        return _date_sql(ref)
    if pg_type in INTEGER_RANGES:
        low, high = INTEGER_RANGES[pg_type]
        return (f"(case when {ref} is null then null when not ({ref} ~ '{INTEGER_RE}') then false"
                f" when octet_length({ref}) > {MAX_NUMBER_CHARS} then false"
                f" else {ref}::numeric between {low} and {high} end)")
    if pg_type.startswith("numeric(") and pg_type.endswith(")"):
        precision, scale = (int(part) for part in pg_type[len("numeric("):-1].split(","))
        fits = f"abs(round({ref}::numeric, {scale})) < 1{'0' * (precision - scale)}"
        return (f"(case when {ref} is null then null when not ({ref} ~ '{DECIMAL_RE}') then false"
                f" when octet_length({ref}) > {MAX_NUMBER_CHARS} then false"
                f" when strpos({ref}, 'e') = 0 and strpos({ref}, 'E') = 0 then {fits}"
                f" when {ref} ~ '{_SHORT_EXPONENT_RE}' then {fits}"
                f" else false end)")
    raise ValueError(f"no type check for {pg_type!r}: add one to lowincome.parsing")


def _date_sql(ref: str) -> str:
    # ISO only: PostgreSQL also reads '3/5/2014' as a date, differently under each DateStyle.
    year, month, day = (f"substr({ref}, {at}, {n})::int" for at, n in ((1, 4), (6, 2), (9, 2)))
    leap = f"(mod({year}, 4) = 0 and (mod({year}, 100) <> 0 or mod({year}, 400) = 0))"  # no %: psycopg placeholders
    last_day = (f"case when {month} = 2 then case when {leap} then 29 else 28 end"
                f" when {month} in (4, 6, 9, 11) then 30 else 31 end")
    return (f"(case when {ref} is null then null when not ({ref} ~ '{ISO_DATE_RE}') then false"
            f" when {year} = 0 or {month} not between 1 and 12 then false"
            f" when {day} between 1 and 28 then true"
            f" else {day} between 1 and {last_day} end)")


def typed_sql(ref: str, pg_type: str) -> str:
    """SQL: the value cast to its type, NULL when it does not parse (never a cast error)."""
    cast = "date" if pg_type == "date" else "numeric"
    return f"(case when {parses_sql(ref, pg_type)} then {ref}::{cast} end)"


def between_sql(ref: str, pg_type: str, low: float | None, high: float | None) -> str:
    """SQL: a value that parses lies within [low, high]; one that does not parse is the type rule's."""
    cast = "date" if pg_type == "date" else "numeric"
    bounds = " and ".join(b for b in (f"{ref}::{cast} >= {low}" if low is not None else "",
                                      f"{ref}::{cast} <= {high}" if high is not None else "") if b)
    # CASE: the parse test runs once per value, and no cast is attempted on a value that fails it
    return f"(case when {parses_sql(ref, pg_type)} then {bounds} else true end)"
