"""Column map expectations GX lacks for a table of text: "parses as <PostgreSQL type>", "between, once
parsed" and "matches a code pattern" (a regex, tested the way PostgreSQL does it fast). Being column
*map* expectations they join GX's single bundled aggregate query with the built-in ones (not null,
value set) and get GX's ``unexpected_index_query``; written as ``UnexpectedRowsExpectation`` each would
cost two more scans of the load table per column.

The SQL of each condition comes from :mod:`lowincome.parsing`, which also writes the casts in the rows
rules (:mod:`lowincome.quality.rules`) and the loader's safety net: one definition of "parses".
"""

from __future__ import annotations

from typing import Any, ClassVar, Union

from lowincome.parsing import between_sql, parses_sql
from lowincome.quality.context import gx

gx()  # GX imported our way (warnings, analytics) before its modules below

import re  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from great_expectations.compatibility import pydantic  # noqa: E402
from great_expectations.execution_engine import SqlAlchemyExecutionEngine  # noqa: E402
from great_expectations.expectations import core as gxe_core  # noqa: E402
from great_expectations.expectations.expectation import ColumnMapExpectation  # noqa: E402
from great_expectations.expectations.metrics.map_metric_provider import (  # noqa: E402
    ColumnMapMetricProvider,
    column_condition_partial,
)

_ATOM = re.compile(r"\\[dw]|\[(?:\\.|[^\]\\])+\]|[0-9A-Za-z_-]")
_COUNT = re.compile(r"\{(\d+)(?:,(\d+))?\}")


def length_form(pattern: str) -> tuple[int, int, str] | None:
    """``(min length, max length, unbounded regex)`` equivalent to an anchored code pattern, or None.

    PostgreSQL's regex engine expands a bounded repetition into that many states, so
    ``length(x) <= 32 and x ~ '^[0-9A-Za-z_-]+$'`` is several times cheaper than
    ``x ~ '^[0-9A-Za-z_-]{1,32}$'`` (measured: docs/decisions/0015-validation-in-the-warehouse.md).
    The two are the same test when the pattern is
    ``^…$`` over single-character atoms (a class, ``\\d``, a letter or digit) of which at most one is
    repeated: every other atom takes exactly one character, so the repeated one takes the rest, and the
    string's length alone decides whether its count is within bounds. Any other pattern returns None
    and is tested as written.
    """
    if not (pattern.startswith("^") and pattern.endswith("$")) or pattern.endswith("\\$"):
        return None
    body, position, atoms = pattern[1:-1], 0, []
    while position < len(body):
        atom = _ATOM.match(body, position)
        if atom is None:
            return None
        position = atom.end()
        count = _COUNT.match(body, position)
        if count:
            low = int(count.group(1))
            high = low if count.group(2) is None else int(count.group(2))
            position = count.end()
        else:
            low = high = 1
        atoms.append((atom.group(0), low, high))
    repeated = [i for i, (_atom, low, high) in enumerate(atoms) if (low, high) != (1, 1)]
    if len(repeated) != 1:
        return None
    fixed = len(atoms) - 1
    atom, low, high = atoms[repeated[0]]
    if high < low:
        return None
    parts = [a if i != repeated[0] else a + ("+" if low else "*") for i, (a, _l, _h) in enumerate(atoms)]
    return fixed + low, fixed + high, "^" + "".join(parts) + "$"


def matches_sql(ref: str, pattern: str) -> str:
    """SQL: the text in ``ref`` matches the regex ``pattern`` (PostgreSQL's regex dialect)."""
    form = length_form(pattern)
    if form is None:
        return f"({ref} ~ {lit(pattern)})"
    low, high, unbounded = form
    size = f"length({ref}) = {low}" if low == high else f"length({ref}) between {low} and {high}"
    return f"({size} and {ref} ~ {lit(unbounded)})"


def lit(value: object) -> str:
    """A SQL string literal of a value from our own config (never from a file)."""
    return "'" + str(value).replace("'", "''") + "'"


def _quoted(column: Any) -> str:
    return '"' + str(column.name).replace('"', '""') + '"'


class ColumnValuesParseAs(ColumnMapMetricProvider):
    condition_metric_name = "column_values.lowincome_parses_as"
    condition_value_keys = ("pg_type",)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, pg_type, **kwargs):
        return sa.literal_column(parses_sql(_quoted(column), pg_type), type_=sa.Boolean)


class ColumnValuesBetweenOnceParsed(ColumnMapMetricProvider):
    condition_metric_name = "column_values.lowincome_between_once_parsed"
    condition_value_keys = ("pg_type", "min_value", "max_value")

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, pg_type, min_value, max_value, **kwargs):
        return sa.literal_column(between_sql(_quoted(column), pg_type, min_value, max_value), type_=sa.Boolean)


class ColumnValuesMatchPattern(ColumnMapMetricProvider):
    condition_metric_name = "column_values.lowincome_match_pattern"
    condition_value_keys = ("regex",)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, regex, **kwargs):
        return sa.literal_column(matches_sql(_quoted(column), regex), type_=sa.Boolean)


class ExpectColumnValuesToMatchPattern(ColumnMapExpectation):
    """Expect each non-null text value to match the regex (PostgreSQL dialect), as a code pattern.

    GX's ``expect_column_values_to_match_regex`` with the test written for PostgreSQL's speed: a length
    check and an unbounded regex where :func:`length_form` proves them the same, the regex as given
    otherwise.
    """

    regex: str = pydantic.Field(description="regular expression (PostgreSQL) each value must match")

    map_metric: ClassVar[str] = "column_values.lowincome_match_pattern"
    success_keys: ClassVar[tuple[str, ...]] = ("regex", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "regex")
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "experimental", "tags": ["lowincome"],
                                                   "contributors": ["lowincome"]}


class ExpectColumnValuesToParseAs(ColumnMapExpectation):
    """Expect each non-null text value to parse as the given PostgreSQL type (``integer``, ``date``…)."""

    pg_type: str = pydantic.Field(description="PostgreSQL type the text must parse as")

    map_metric: ClassVar[str] = "column_values.lowincome_parses_as"
    success_keys: ClassVar[tuple[str, ...]] = ("pg_type", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "pg_type")
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "experimental", "tags": ["lowincome"],
                                                   "contributors": ["lowincome"]}


class ExpectColumnValuesToBeBetweenOnceParsed(ColumnMapExpectation):
    """Expect each non-null text value that parses as ``pg_type`` to lie within [min_value, max_value]."""

    pg_type: str = pydantic.Field(description="PostgreSQL type the text is parsed as")
    min_value: Union[int, float] | None = None  # noqa: UP007  (GX's pydantic v1 models)
    max_value: Union[int, float] | None = None  # noqa: UP007

    map_metric: ClassVar[str] = "column_values.lowincome_between_once_parsed"
    success_keys: ClassVar[tuple[str, ...]] = ("pg_type", "min_value", "max_value", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "pg_type", "min_value", "max_value")
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "experimental", "tags": ["lowincome"],
                                                   "contributors": ["lowincome"]}


class UnexpectedRowsCountExpectation(gxe_core.UnexpectedRowsExpectation):
    """An ``UnexpectedRowsExpectation`` that asks PostgreSQL for the count only.

    GX's own computes two metrics from the query, the rows (up to a limit) and their count: two scans
    of the load table for every cross-field and cross-file rule. The rows we need are fetched anyway,
    only for the rules that failed, by one union query (:mod:`lowincome.quality.validation`), so the
    count is all GX has to compute: one scan per rule instead of two (measured:
    docs/decisions/0015-validation-in-the-warehouse.md).
    """

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine: Any = None) -> dict:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}
