"""The marts as they were published at a given time (the publication histories kept by dbt).

In SQL: ``select * from marts.target_attainment_as_of('2018-04-30 18:00+08')`` and
``marts.indicator_values_as_of(...)``; both honour row-level security like the tables.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from lowincome.errors import UserError


def _as_of(conn: psycopg.Connection, function: str, when: datetime, where: str, params: tuple) -> list[dict]:
    if when.tzinfo is None:
        raise UserError("give the time with its zone, e.g. 2018-04-30T18:00+08:00")
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"select * from marts.{function}(%s) {where}", (when, *params)).fetchall()


def target_attainment_as_of(conn: psycopg.Connection, when: datetime, target_id: str | None = None) -> list[dict]:
    """Rows of target_attainment as published at ``when`` (optionally one target)."""
    where, params = ("where target_id = %s", (target_id,)) if target_id else ("", ())
    return _as_of(conn, "target_attainment_as_of", when, where + " order by target_id, geography_code, year", params)


def indicator_values_as_of(conn: psycopg.Connection, when: datetime, metric: str | None = None) -> list[dict]:
    """Published figures as they stood at ``when`` (optionally one metric)."""
    where, params = ("where metric = %s", (metric,)) if metric else ("", ())
    return _as_of(conn, "indicator_values_as_of", when, where + " order by metric, geography_code, year", params)
