"""Validating a file (the fourth stage): the night's GX suites on its load table, in two waves.

The rules themselves live in :mod:`lowincome.quality` (Great Expectations, from the data contract);
ingestion calls :func:`lowincome.quality.validate_load_table` on the load table a file was read into
(:mod:`lowincome.ingest.load_tables`) and hands the outcome to the load (:mod:`lowincome.ingest.load`).

Validation checks some files against others already in the warehouse (an income row's household must
be in that county's register; a loan rate against the province's benchmark), so the files of a night
are loaded in two *waves*: first the registers the others are checked against (:data:`REGISTERS`),
then the files checked against them; within a wave a county's files go by year, then in order of
arrival (so that a later file for the same county, template and year supersedes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from lowincome.config import Settings
from lowincome.ingest.record import FileRecord

# Templates that validation reads from the warehouse when it checks other files (see quality/rules.py):
# the household register (incomes, programmes, relocations), villages (relocations) and the province's
# benchmark rate (loan rates). County indicators depend on nothing and load with them.
REGISTERS = frozenset({"households", "villages", "province_indicators", "county_indicators"})


def wave_of(record: FileRecord) -> int:
    """1 for registers and for files with nothing to validate, 2 for files checked against registers."""
    if record.kind != "parsed" or record.rejected or record.template in REGISTERS:
        return 1
    return 2


def load_order(record: FileRecord) -> tuple:
    return wave_of(record), record.year or 0, record.order


def validate_item(cfg: Settings, record: FileRecord) -> dict | None:
    """Run validation on a parsed file's load table; None when there is nothing to validate."""
    if record.kind != "parsed" or record.rejected or not record.load_table:
        return None
    from lowincome.quality import validate_load_table

    started = dt.datetime.now(dt.UTC)
    outcome = validate_load_table(
        cfg, load_table=f'ops."{record.load_table}"', template=record.template,
        county_code=record.county_code, year=record.year, columns=list(record.columns),
        explanation=record.explanation)
    result = dataclasses.asdict(outcome)
    result.update(started_at=started.isoformat(), finished_at=dt.datetime.now(dt.UTC).isoformat())
    return result
