"""The accounting invariant: nothing received is lost, nothing is counted twice.

Every row of every received file is in exactly one place, ``raw.<template>`` (loaded) or
``ops.rejected_rows`` (rejected), and the ledger's counts say so; every received file is in
``ops.submissions`` and its original bytes are in the archive.

:func:`violations` returns one short English line per broken promise (an empty list when all hold).
The row promises are checked in the warehouse by one set-based query (one pass over each raw table and
over ``ops.rejected_rows``), so the check stays fast on millions of rows.

In-flight work is not a violation. A file's ledger row, its raw rows and its rejected rows are written
in one transaction (:mod:`lowincome.ingest.load`), so a committed submission is always complete and
an uncommitted one is invisible; the scratch tables ``ops."load_<token>"`` (``ops.load_tables``) are not
looked at. The one trace a file leaves before its commit is its archived copy (written at parse time):
an archived file that no submission names is reported only when the same bytes no longer wait in a
landing folder (``cfg.landing_dir`` and ``waiting``), i.e. when no next run would record it either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import psycopg
from psycopg import sql

from lowincome.config import Settings
from lowincome.display import printable
from lowincome.ingest.files import sha256_of, why_refused
from lowincome.templates import templates

# Per submission: what the ledger says against what the warehouse holds; then raw rows of no submission.
_CHECK = """
with in_raw as materialized ({in_raw}),
     listed as materialized (
        select submission_id as sid, count(*) as n, count(distinct row_number) as n_rows
        from ops.rejected_rows group by submission_id),
     both_places as ({both_places}),
     checked as (
        select s.id, s.file_name, s.status, s.template, s.rows_read, s.rows_loaded, s.rows_rejected,
               coalesce(r.n, 0) as raw_n, coalesce(r.n_rows, 0) as raw_rows,
               coalesce(l.n, 0) as listed_n, coalesce(l.n_rows, 0) as listed_rows,
               coalesce(b.n_rows, 0) as both_rows
        from ops.submissions s
        left join in_raw r on r.sid = s.id and r.tpl = s.template
        left join listed l on l.sid = s.id
        left join (select sid, sum(n_rows) as n_rows from both_places group by sid) b on b.sid = s.id)
select 'submission' as kind, id, file_name, status, template, rows_read, rows_loaded, rows_rejected,
       raw_n, raw_rows, listed_n, listed_rows, both_rows
from checked
where rows_read <> rows_loaded + rows_rejected or raw_n <> rows_loaded or raw_rows <> raw_n
   or listed_rows <> rows_rejected or listed_n <> listed_rows or both_rows > 0
   or (status = 'duplicate' and rows_read <> 0)
union all
select 'stray', r.sid, null, null, r.tpl, null, null, null, r.n, r.n_rows, null, null, null
from in_raw r
where not exists (select 1 from ops.submissions s where s.id = r.sid and s.template = r.tpl)
order by kind desc, id, template   -- 'submission' lines first, then 'stray'
"""


def violations(conn: psycopg.Connection, cfg: Settings, waiting: Iterable[Path] = ()) -> list[str]:
    """Every broken accounting promise, one line each; ``[]`` when every received row and file is accounted for.

    ``waiting``: landing folders besides ``cfg.landing_dir`` whose files are still to be ingested (a DAG
    run's ``landing`` from its conf): an archived copy of a file waiting there is in flight, not lost.
    """
    problems = _row_violations(conn)
    problems += _archive_violations(conn, cfg, [cfg.landing_dir, *waiting])
    return problems


def accounted_files(conn: psycopg.Connection) -> int:
    """How many received files the ledger holds (what the promise covers)."""
    return conn.execute("select count(*) from ops.submissions").fetchone()[0]


def _raw_tables(conn: psycopg.Connection) -> list[str]:
    names = sorted(templates())
    present = {name for (name,) in conn.execute(
        "select tablename from pg_tables where schemaname = 'raw' and tablename = any(%s)", (names,)).fetchall()}
    return [name for name in names if name in present]


def _row_violations(conn: psycopg.Connection) -> list[str]:
    tables = _raw_tables(conn)
    if tables:
        in_raw = sql.SQL(" union all ").join(
            sql.SQL("select {tpl}::text as tpl, _submission_id as sid, count(*) as n, "
                    "count(distinct _source_row) as n_rows from {t} group by _submission_id").format(
                tpl=sql.Literal(name), t=sql.Identifier("raw", name))
            for name in tables)
        # the source rows of a file that are both loaded into raw and listed as rejected
        both = sql.SQL(" union all ").join(
            sql.SQL("select x.sid, count(*) as n_rows from (select distinct r.submission_id as sid, r.row_number "
                    "from ops.rejected_rows r join {t} t on t._submission_id = r.submission_id "
                    "and t._source_row = r.row_number) x group by x.sid").format(t=sql.Identifier("raw", name))
            for name in tables)
    else:
        in_raw = sql.SQL("select null::text as tpl, null::bigint as sid, 0::bigint as n, 0::bigint as n_rows "
                         "where false")
        both = sql.SQL("select null::bigint as sid, 0::bigint as n_rows where false")
    problems: list[str] = []
    for (kind, sid, file_name, status, tpl, read, loaded, rejected, raw_n, raw_rows, listed_n, listed_rows,
         both_rows) in conn.execute(sql.SQL(_CHECK).format(in_raw=in_raw, both_places=both)).fetchall():
        if kind == "stray":
            problems.append(f"raw.{tpl}: {raw_n} rows name submission {sid}, which is no {tpl} file of "
                            "ops.submissions")
            continue
        who = f"submission {sid} ({printable(file_name)}, {status})"   # printed: a name's escapes shown, not run
        raw = f"raw.{tpl}" if tpl else "raw"
        if read != loaded + rejected:
            problems.append(f"{who}: {read} rows read but {loaded} loaded + {rejected} rejected")
        if raw_n != loaded:
            problems.append(f"{who}: {raw_n} rows in {raw}, the ledger says {loaded} loaded")
        if raw_rows != raw_n:
            problems.append(f"{who}: {raw_n - raw_rows} source rows loaded into {raw} more than once")
        if listed_rows != rejected:
            problems.append(f"{who}: {listed_rows} rows in ops.rejected_rows, the ledger says {rejected} rejected")
        if listed_n != listed_rows:
            problems.append(f"{who}: {listed_n - listed_rows} source rows listed in ops.rejected_rows more than once")
        if both_rows:
            problems.append(f"{who}: {both_rows} source rows both loaded into {raw} and listed in ops.rejected_rows")
        if status == "duplicate" and read:
            problems.append(f"{who}: a duplicate with {read} rows read")
    return problems


def _archive_violations(conn: psycopg.Connection, cfg: Settings, landing: list[Path]) -> list[str]:
    problems: list[str] = []
    named: set[str] = set()
    for sid, file_name, status, path, size in conn.execute(
            "select id, file_name, status, archive_path, size_bytes from ops.submissions order by id").fetchall():
        who = f"submission {sid} ({printable(file_name)}, {status})"
        if not path:
            problems.append(f"{who}: no archived original recorded")
            continue
        named.add(os.path.normpath(path))
        try:
            found = os.stat(path).st_size
        except OSError:
            problems.append(f"{who}: archived original {path} is missing")
            continue
        if found != size:
            problems.append(f"{who}: archived original {path} has {found} bytes, the file had {size}")
    archive_dir = Path(cfg.archive_dir)
    if not archive_dir.is_dir():
        return problems
    orphans: dict[Path, int] = {}
    for path in sorted(archive_dir.rglob("*")):
        # ".<sha>.<pid>.tmp": a copy in progress (or cut short by a kill), never a received file
        if path.name.startswith(".") or not path.is_file() or os.path.normpath(path) in named:
            continue
        orphans[path] = path.stat().st_size
    if orphans:
        waiting = _waiting_checksums(landing, set(orphans.values()))
        problems += [f"archive: {path.relative_to(archive_dir)} ({size} bytes) is in no submission and waits "
                     "in no landing folder" for path, size in orphans.items() if path.name not in waiting]
    return problems


def _waiting_checksums(folders: list[Path], sizes: set[int]) -> set[str]:
    """SHA-256 of the files waiting in the landing folders, computed only for files of the sizes asked."""
    found: set[str] = set()
    for folder in dict.fromkeys(Path(f) for f in folders):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                if why_refused(path) is not None or not path.is_file() or path.stat().st_size not in sizes:
                    continue
                found.add(sha256_of(path)[0])
            except OSError:   # taken by a run while we looked
                continue
    return found
