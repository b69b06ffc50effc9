"""The usual way people write it, for comparison: pandas reads the file, GX validates the DataFrame,
``DataFrame.to_sql`` (SQLAlchemy 2 + psycopg 3) inserts it.

It does the same job as the project's path on a clean file, as such a script would: headers mapped to
the template's names, the template's column checks in a GX suite on a pandas data source (not null,
patterns, value sets, types, ranges, the file's county and year, the unique key and the two
column-pair rules), yes/no words turned into booleans, the pseudonym columns computed, and the rows
appended to a table identical to ``raw.households``. Rules that need the warehouse (row counts against
last year) or SQL (the ID check digit) are left out, which only flatters the usual way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lowincome.templates import contract, template

TEXT_TYPES = ("code", "text", "enum", "bool", "date")
INT_TYPES = ("int", "year")


@dataclass
class UsualRun:
    seconds: float
    read_seconds: float
    validate_seconds: float
    write_seconds: float
    rows: int
    expectations: int
    success: bool
    left_out: list[str] = field(default_factory=list)


def pandas_suite(template_name: str, county_code: str, year: int) -> tuple[Any, list[str]]:
    """The template's column checks as GX expectations a pandas batch can run; and the rules left out."""
    from lowincome.quality.context import gx
    from lowincome.quality.rules import rules_for

    ge = gx()
    gxe = ge.expectations
    tpl = template(template_name)
    expectations = []
    left_out = []
    for rule in rules_for(template_name):
        col = tpl.column(rule.column) if rule.column in tpl.column_names else None
        if rule.kind == "column_values":
            if rule.gx_type == "not_null":
                expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=rule.column))
            elif rule.gx_type == "match_regex":
                expectations.append(gxe.ExpectColumnValuesToMatchRegex(column=rule.column,
                                                                       regex=rule.gx_kwargs["regex"]))
            elif rule.gx_type == "in_set":
                values = rule.gx_kwargs["value_set"]
                if isinstance(values, dict):  # the file's county / year
                    values = [county_code] if rule.column == "county_code" else [year]
                expectations.append(gxe.ExpectColumnValuesToBeInSet(column=rule.column, value_set=list(values)))
            elif rule.gx_type == "parses_as":
                kinds = ["int64", "int32", "Int64"] if col is not None and col.type in INT_TYPES else \
                    ["float64", "int64", "Float64"]
                expectations.append(gxe.ExpectColumnValuesToBeInTypeList(column=rule.column, type_list=kinds))
            elif rule.gx_type == "between":
                expectations.append(gxe.ExpectColumnValuesToBeBetween(
                    column=rule.column, min_value=rule.gx_kwargs.get("min_value"),
                    max_value=rule.gx_kwargs.get("max_value")))
            else:
                left_out.append(rule.key)
        elif rule.rule == "unique_key":
            key = list(rule.needs)
            expectations.append(gxe.ExpectColumnValuesToBeUnique(column=key[0]) if len(key) == 1
                                else gxe.ExpectCompoundColumnsToBeUnique(column_list=key))
        elif "_le_" in rule.rule and len(rule.needs) == 2:
            small, large = rule.needs
            expectations.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=large, column_B=small, or_equal=True))
        else:
            left_out.append(rule.key)
    suite = ge.ExpectationSuite(name=f"usual_{template_name}", expectations=expectations)
    return suite, left_out


def _dtypes(template_name: str) -> dict[str, Any]:
    tpl = template(template_name)
    return {c.zh: str for c in tpl.columns if c.type in TEXT_TYPES}


def read_frame(path: Path, template_name: str) -> Any:
    import pandas as pd

    tpl = template(template_name)
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=_dtypes(template_name), keep_default_na=False, na_values=[""])
    else:
        frame = pd.read_excel(path, dtype=_dtypes(template_name), keep_default_na=False, na_values=[""])
    return frame.rename(columns={c.zh: c.name for c in tpl.columns})


def run_usual(path: Path, *, template_name: str, county_code: str, year: int, url: str, table: str,
              hmac_key: str) -> UsualRun:
    """Read, validate, convert and ``to_sql`` one file; times of each step."""
    import time

    import sqlalchemy as sa

    from lowincome.config import sqlalchemy_url
    from lowincome.pseudonym import make_hasher
    from lowincome.quality.context import gx

    tpl = template(template_name)
    started = time.perf_counter()
    frame = read_frame(path, template_name)
    read_done = time.perf_counter()

    context = gx().get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    suite, left_out = pandas_suite(template_name, county_code, year)
    batch = (context.data_sources.add_pandas("usual").add_dataframe_asset("file")
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    result = batch.validate(suite)
    validate_done = time.perf_counter()

    con = contract()
    for col in tpl.columns:
        if col.type == "bool":
            frame[col.name] = frame[col.name].map(lambda v: True if v in con.yes else False if v in con.no else None)
    hasher = make_hasher(hmac_key)
    for key, parts in tpl.pseudonyms.items():
        frame[key] = [hasher(*values) for values in zip(*(frame[p] for p in parts), strict=True)]
    frame["_submission_id"] = 1
    frame["_source_row"] = range(2, len(frame) + 2)
    schema, _, name = table.rpartition(".")
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        frame.to_sql(name, engine, schema=schema or None, if_exists="append", index=False)
    finally:
        engine.dispose()
    done = time.perf_counter()
    return UsualRun(seconds=done - started, read_seconds=read_done - started,
                    validate_seconds=validate_done - read_done, write_seconds=done - validate_done,
                    rows=len(frame), expectations=len(suite.expectations), success=bool(result.success),
                    left_out=left_out)
