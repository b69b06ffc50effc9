"""The scratch tables ``ops."load_<token>"`` a file is parsed into before validation and the load.

UNLOGGED text tables, created and registered in one committed transaction, filled by one binary ``COPY``
(committed, so that validation reads them through its own connection). A run (a DAG run, or one
``lowincome ingest``) owns its tables; at the start of the next run every table whose run is gone is
dropped. A CLI run proves it is alive by holding an advisory lock for its whole duration, so a
process killed with SIGKILL releases it with its connection.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

LOCK_NAMESPACE = 7301   # advisory locks (7301, key): a live CLI ingestion run
DAG_RUN_GRACE = dt.timedelta(hours=6)
# The keys validation's cross-file rules join or group by (lowincome.quality.rules): on raw tables and on
# load tables alike. A relocation's from_village_code is looked up in raw, so only load tables have it.
JOIN_KEYS = ("household_key", "village_code", "county_code", "year")
LOAD_TABLE_KEYS = ("_source_row", *JOIN_KEYS, "from_village_code")


@dataclass(frozen=True)
class IngestRun:
    """Who owns the load tables created now: a DAG run (by id) or a live CLI process (by lock)."""

    run_id: str
    batch: str | None = None
    owner_lock: int | None = None

    @property
    def is_dag_run(self) -> bool:
        return self.owner_lock is None


@contextmanager
def cli_run(url: str) -> Iterator[IngestRun]:
    """A CLI ingestion run: an advisory lock held on a connection of its own while the run lives."""
    key = random.randint(1, 2**31 - 1)
    with psycopg.connect(url, autocommit=True, application_name="lowincome-ingest-owner") as holder:
        holder.execute("select pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, key))
        yield IngestRun(run_id=f"cli-{uuid.uuid4().hex[:12]}", owner_lock=key)


def new_name() -> str:
    return f"load_{uuid.uuid4().hex[:20]}"


def ident(name: str) -> sql.Composed:
    return sql.SQL("ops.{}").format(sql.Identifier(name))


def create(conn: psycopg.Connection, name: str, columns: list[str], run: IngestRun) -> None:
    cols = [sql.SQL("_source_row integer not null")]
    cols += [sql.SQL("{} text").format(sql.Identifier(c)) for c in columns]
    with conn.transaction():
        # No autovacuum: the table is analyzed once it is filled and dropped within minutes, and a DROP
        # that finds autovacuum working on it waits deadlock_timeout (1 s) before autovacuum is cancelled.
        conn.execute(sql.SQL("create unlogged table {} ({}) with (autovacuum_enabled = false, "
                             "toast.autovacuum_enabled = false)").format(ident(name), sql.SQL(", ").join(cols)))
        conn.execute("insert into ops.load_tables (name, run_id, batch, owner_lock) values (%s, %s, %s, %s)",
                     (name, run.run_id, run.batch, run.owner_lock))


def copy_rows(conn: psycopg.Connection, name: str, columns: list[str], rows: Iterable[tuple],
              analyze: bool = True) -> None:
    """Stream the rows in with COPY, committed as one transaction; then ANALYZE the table (``analyze``:
    False for a second writer, whose rows the first one's ANALYZE waits for).

    Binary COPY: a text value goes as its bytes with a length, so neither psycopg escapes it nor the
    server parses delimiters and escapes (about half the client CPU of text COPY; measured:
    benchmarks/RESULTS.md, history, run Q). A NUL character fails it as it fails text
    COPY (a DataError: the file is rejected as unreadable)."""
    statement = sql.SQL("copy {} ({}) from stdin (format binary)").format(
        ident(name), sql.SQL(", ").join(map(sql.Identifier, ["_source_row", *columns])))
    with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(["int4"] + ["text"] * len(columns))
        write = copy.write_row
        for row in rows:
            write(row)
    # Validation's queries join the load table to raw: without statistics the planner takes a fresh
    # table for empty and picks nested loops that are quadratic in the file's rows. The row count and
    # the join keys are what those plans need; the other columns are only scanned, so analysing them
    # would cost most of the ANALYZE for nothing.
    if analyze:
        present = {"_source_row", *columns}
        analyze_columns(conn, ident(name), [c for c in LOAD_TABLE_KEYS if c in present])


def analyze_columns(conn: psycopg.Connection, table: sql.Composable, columns: list[str]) -> None:
    """ANALYZE these columns of ``table`` (its row and page counts are set all the same)."""
    conn.execute(sql.SQL("analyze {} ({})").format(table, sql.SQL(", ").join(map(sql.Identifier, columns))))


def drop(conn: psycopg.Connection, name: str) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("drop table if exists {}").format(ident(name)))
        conn.execute("delete from ops.load_tables where name = %s", (name,))


def store_outcome(conn: psycopg.Connection, name: str, outcome: dict) -> None:
    with conn.transaction():
        conn.execute("update ops.load_tables set outcome = %s::jsonb where name = %s",
                     (json.dumps(outcome, ensure_ascii=False), name))


def stored_outcome(conn: psycopg.Connection, name: str) -> dict | None:
    found = conn.execute("select outcome from ops.load_tables where name = %s", (name,)).fetchone()
    return found[0] if found else None


def drop_stale(conn: psycopg.Connection, run: IngestRun) -> list[str]:
    """Drop the load tables of runs that are gone; returns their names.

    Gone: a CLI run whose advisory lock nobody holds; a DAG run other than ``run`` when ``run`` is a DAG
    run (one DAG run at a time: max_active_runs=1); any DAG run's table older than a night's grace.
    """
    held = {objid for (objid,) in conn.execute(
        "select objid::bigint from pg_locks where locktype = 'advisory' and classid = %s and objsubid = 2",
        (LOCK_NAMESPACE,)).fetchall()}
    stale = []
    for name, run_id, owner_lock, created_at in conn.execute(
            "select name, run_id, owner_lock, created_at from ops.load_tables").fetchall():
        if owner_lock is not None:
            gone = owner_lock not in held
        elif run.is_dag_run:
            gone = run_id != run.run_id
        else:
            gone = created_at < dt.datetime.now(dt.UTC) - DAG_RUN_GRACE
        if gone:
            stale.append(name)
    for name in stale:
        drop(conn, name)
    return stale


def drop_batch(conn: psycopg.Connection, run: IngestRun) -> None:
    """A retried parse task starts clean: the tables an earlier attempt of this batch left are dropped."""
    for (name,) in conn.execute("select name from ops.load_tables where run_id = %s and batch is not distinct "
                                "from %s", (run.run_id, run.batch)).fetchall():
        drop(conn, name)
