"""Loading one file (the fifth stage): the ledger row, the rows into ``raw``, the rejected rows, in ONE transaction.

A crash anywhere before the commit leaves nothing in raw or the ledger and the file in landing; the
next run does it again from the start. After the commit come the steps that can be repeated safely
(drop the load table, quarantine, feedback, clear landing): if a crash interrupts them, the next run
finds the committed ledger row for the same file still in landing and finishes them (``recover``),
so a crashed night and a clean night end with the same tables. A step that fails there (a full disk, a
folder in the way) is that file's outcome (:attr:`FileOutcome.unfinished`, logged), never the night's:
the file stays in landing, and the next run finishes it the same way.

The CLI validates a file inside that transaction, while the same transaction already writes the
file's castable rows into raw (the server works on both at once; validation has its own connection):
the rows validation rejects are deleted again before the commit, and a file rejected whole rolls the
write back to a savepoint. The DAG validates in a task of its own and hands the outcome in.

Accounting: every data row of a file ends in exactly one place, ``raw.<template>`` or
``ops.rejected_rows``; a file rejected as a whole lists all its rows there (each with its own row
reason where validation found one, else the file's reason), so rows_read = rows_loaded + rows_rejected
for every file that was read at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from lowincome.config import Settings
from lowincome.display import printable
from lowincome.ingest import files, load_tables
from lowincome.ingest.account import FileOutcome, write_feedback
from lowincome.ingest.reasons import reason
from lowincome.ingest.record import FileRecord
from lowincome.parsing import parses_sql
from lowincome.templates import contract, template

log = logging.getLogger(__name__)
LOCK_SHA = 7303          # advisory (7303, hashtext(sha)): one file finalised at a time
LOCK_SUBMISSION = 7302   # advisory (7302, hashtext(county|template|year)): supersede in arrival order
ANALYZE_AFTER = 1_000    # rows loaded into raw in one file that make its statistics worth refreshing
STALE_SHARE = 0.1        # growth of a raw table since its last ANALYZE that makes its statistics stale
# The raw columns the ingestion's own queries look rows up by: a file's rows (lineage) and the keys of the
# cross-file rules. The loader's ANALYZE covers only these.
PLANNER_COLUMNS = ("_submission_id", *load_tables.JOIN_KEYS)
# Test hook: called inside the finalise transaction after every write and before the commit.
_before_commit = None
ACCEPTED = ("loaded", "superseded")


def earlier_copy(conn: psycopg.Connection, sha: str, file_name: str) -> dict | None:
    """The submission that makes a file with these bytes a duplicate, or the one to recover, or None.

    To recover (:func:`unfinished`): this very file (same bytes, same name) committed by a run that did
    not clear it from landing. A duplicate: a copy of an *accepted* file (loaded, or superseded since).
    A file rejected earlier makes no duplicate: its bytes are validated afresh, whatever the reason was.
    A reason outside the file (its households not yet in the register, a rule changed since) may be
    gone, and a reason inside it recurs and is told again; "identical, no need to resend" is never said
    of a file that was not accepted. The ledger keeps every copy.
    """
    found = [dict(zip(("id", "file_name", "status", "reason_code", "cleared_at", "county_code", "template",
                       "year"), row, strict=True)) for row in conn.execute(
        """select id, file_name, status, reason_code, cleared_at, county_code, template, year
           from ops.submissions where sha256 = %s and status <> 'duplicate' order by id""", (sha,)).fetchall()]
    return (next((f for f in found if unfinished(f, file_name)), None)
            or next((f for f in found if f["status"] in ACCEPTED), None))


def unfinished(earlier: dict, file_name: str) -> bool:
    """``earlier`` (from :func:`earlier_copy`) is this file, committed but not yet cleared from landing."""
    return earlier["cleared_at"] is None and earlier["file_name"] == file_name


def finalise(conn: psycopg.Connection, cfg: Settings, item: FileRecord, outcome: dict | None = None, *,
             validate: Callable[[], dict | None] | None = None) -> FileOutcome:
    """Record the file in the ledger and load its passing rows, then finish the repeatable steps.

    ``outcome`` is the file's validation outcome when it is already known (the DAG validates in a task
    of its own). ``validate`` instead computes it inside this transaction, while the file's rows are
    already being written into raw on this connection (two server processes, two cores); the rows that
    validation rejects are deleted again before the commit, and a file rejected whole rolls the write
    back. Nothing of it is visible to anyone before the commit either way.
    """
    if item.kind == "recover":
        return after_commit(conn, cfg, item, item.recover_id)
    superseded: list[int] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_SHA, item.sha256))
        done = None
        if item.load_table:
            done = conn.execute("select id from ops.submissions where load_token = %s",
                                (item.load_table,)).fetchone()
        if done:  # a retried load task: this very file was committed by the earlier attempt
            submission_id = done[0]
        else:
            existing = earlier_copy(conn, item.sha256, item.file_name)
            if existing is not None and unfinished(existing, item.file_name):
                submission_id = existing["id"]   # committed since this run parsed it: finish, record nothing
            elif existing is not None:
                submission_id = _record_duplicate(conn, item, existing)
            else:
                # ops.sql accepts the same bytes once (index submissions_sha256_accepted); under the
                # advisory lock above, earlier_copy has already found any accepted copy
                submission_id, superseded = _record_file(conn, item, outcome, validate)
            if _before_commit is not None:
                _before_commit(conn, item)
    result = after_commit(conn, cfg, item, submission_id)
    result.superseded = superseded
    return result


def _record_duplicate(conn: psycopg.Connection, item: FileRecord, existing: dict) -> int:
    """A copy of an accepted file. A copy parsed beside its original in the same night (the same register
    under two names) keeps its load token: the night's later files wait for every load token of their
    county's registers (:func:`lowincome.ingest.pipeline.validate_batch`), and a retried load task finds it."""
    original, county, tpl, year = existing["id"], existing["county_code"], existing["template"], existing["year"]
    return conn.execute(
        """insert into ops.submissions (file_name, sha256, size_bytes, county_code, template, year, status,
               reason_code, reason, duplicate_of, archive_path, source_format, load_token)
           values (%s, %s, %s, %s, %s, %s, 'duplicate', 'duplicate', %s, %s, %s, %s, %s) returning id""",
        (item.file_name, item.sha256, item.size_bytes, county, tpl, year,
         reason("duplicate", duplicate_of=original), original, item.archive_path, item.source_format,
         item.load_table),
    ).fetchone()[0]


def _record_file(conn: psycopg.Connection, item: FileRecord, outcome: dict | None,
                 validate: Callable[[], dict | None] | None = None) -> tuple[int, list[int]]:
    rejection = item.rejection or _file_rejection(outcome)
    submission_id = conn.execute(
        """insert into ops.submissions (file_name, sha256, size_bytes, county_code, template, year, status,
               reason_code, reason, archive_path, explanation, load_token, source_format, source_sheet,
               source_encoding, received_on)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                   coalesce(%s::date, (now() at time zone 'Asia/Shanghai')::date)) returning id""",
        (item.file_name, item.sha256, item.size_bytes, item.county_code, item.template,
         item.year, "rejected" if rejection else "loaded", rejection and rejection["code"],
         rejection and rejection["reason"], item.archive_path, item.explanation, item.load_table,
         item.source_format, item.source_sheet, item.source_encoding, item.received_on),
    ).fetchone()[0]
    early = None
    if item.load_table and rejection is None:
        early = _EarlyLoad(conn, lambda: _load_castable_rows(conn, item, submission_id), concurrent=bool(validate))
    if validate is not None:
        try:
            outcome = validate()
        except BaseException:
            if early is not None:
                early.abandon()
            raise
    inserted = early.result() if early is not None else 0
    if rejection is None and (rejection := _file_rejection(outcome)) is not None:
        if early is not None:
            conn.execute("rollback to savepoint early_load")
            inserted = 0
        conn.execute("update ops.submissions set status = 'rejected', reason_code = %s, reason = %s where id = %s",
                     (rejection["code"], rejection["reason"], submission_id))
    counts = _write_rows(conn, item, outcome, submission_id, rejection, inserted)
    if outcome is not None:
        _write_validation(conn, submission_id, outcome)
    superseded: list[int] = []
    if rejection is None:
        conn.execute("select pg_advisory_xact_lock(%s, hashtext(%s))",
                     (LOCK_SUBMISSION, f"{item.county_code}|{item.template}|{item.year}"))
        superseded = [row[0] for row in conn.execute(
            """update ops.submissions set status = 'superseded', superseded_by = %s
               where county_code = %s and template = %s and year = %s and status = 'loaded' and id <> %s
               returning id""",
            (submission_id, item.county_code, item.template, item.year, submission_id)).fetchall()]
    conn.execute("update ops.submissions set rows_read = %s, rows_loaded = %s, rows_rejected = %s, rows_warned = %s "
                 "where id = %s", (*counts, submission_id))
    return submission_id, superseded


def _file_rejection(outcome: dict | None) -> dict | None:
    if outcome is not None and outcome["file_rejected"]:
        return {"code": outcome["reason_code"], "reason": outcome["reason"]}
    return None


class _EarlyLoad:
    """The write of a file's rows into raw, on the finalise connection, in a thread while validation runs.

    Only this thread uses the connection until :meth:`result` or :meth:`abandon` has joined it (psycopg
    releases the GIL while the server works; validation has connections of its own).
    """

    def __init__(self, conn: psycopg.Connection, work: Callable[[], int], concurrent: bool):
        self._conn = conn
        self._value = 0
        self._error: BaseException | None = None
        self._thread = None
        if concurrent:
            self._thread = threading.Thread(target=self._run, args=(work,), name="lowincome-load-raw", daemon=True)
            self._thread.start()
        else:
            self._run(work)

    def _run(self, work: Callable[[], int]) -> None:
        try:
            self._value = work()
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread by result()
            self._error = err

    def result(self) -> int:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value

    def abandon(self) -> None:
        """Validation failed: stop the write (the transaction is rolled back by the caller's exception).

        A cancel request that arrives between two of the write's statements cancels nothing, so it is
        repeated until the thread has stopped."""
        while self._thread is not None and self._thread.is_alive():
            self._conn.cancel_safe()
            self._thread.join(0.2)


def _load_castable_rows(conn: psycopg.Connection, item: FileRecord, submission_id: int) -> int:
    """Every row of the load table that raw's types can hold, into raw; the rest into ``_uncastable``.

    Runs before validation has spoken (see :func:`finalise`): :func:`_write_rows` then deletes the rows
    validation rejects. The savepoint ``early_load`` lets a file that validation rejects whole roll the
    insert back. Returns the number of rows inserted.
    """
    table = load_tables.ident(item.load_table)
    tpl = template(item.template)
    columns = list(item.columns)
    conn.execute("""create temp table _uncastable (source_row integer, column_name text, rule text, reason text)
                    on commit drop""")
    _find_uncastable(conn, table, tpl, columns)
    # Most files have no such row: an anti-join with an empty table still costs a probe per row
    every_row = conn.execute("select not exists (select 1 from _uncastable)").fetchone()[0]
    conn.execute("savepoint early_load")
    return conn.execute(_insert_raw(tpl, columns, table, every_row=every_row), {"sid": submission_id}).rowcount


def _write_rows(conn: psycopg.Connection, item: FileRecord, outcome: dict | None, submission_id: int,
                rejection: dict | None, inserted: int) -> tuple[int, int, int, int]:
    """Findings, warnings and rejected rows; the raw rows of validation's rejected rows deleted again.

    ``inserted``: the rows :func:`_load_castable_rows` put into raw (0 when the file is rejected).
    """
    findings = (outcome or {}).get("findings", [])
    conn.execute("""create temp table _findings (source_row integer, column_name text, rule text, reason text,
                      severity text, accepted boolean, ord integer) on commit drop""")
    with conn.cursor() as cur, cur.copy("copy _findings from stdin") as copy:
        for order, f in enumerate(findings):
            copy.write_row((f["source_row"], f["column"], f["rule"], f["reason"], f["severity"],
                            bool(f.get("accepted")), order))
    for w in item.warnings:
        conn.execute("insert into ops.row_warnings (submission_id, row_number, column_name, rule, reason) "
                     "values (%s, %s, %s, %s, %s)", (submission_id, w["row"], w["column"], w["rule"], w["reason"]))
    conn.execute("""insert into ops.row_warnings (submission_id, row_number, column_name, rule, reason, accepted)
                    select %s, source_row, column_name, rule, reason, accepted from _findings
                    where severity = 'warn' order by ord""", (submission_id,))
    name = item.load_table
    if not name:
        return 0, 0, 0, 0
    table = load_tables.ident(name)
    tpl = template(item.template)
    conn.execute("""create temp table _rejected on commit drop as
                    select source_row, (array_agg(column_name order by ord))[1] as column_name,
                           (array_agg(rule order by ord))[1] as rule,
                           string_agg(reason, '；' order by ord) as reason
                    from (select source_row, reason, min(ord) as ord, (array_agg(column_name order by ord))[1]
                                 as column_name, (array_agg(rule order by ord))[1] as rule
                          from _findings where severity = 'reject_row' and source_row is not null
                          group by source_row, reason) as f
                    group by source_row""")
    conn.execute("create index on _rejected (source_row)")
    conn.execute("analyze _rejected")
    rows_read = conn.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()[0]
    hidden = tpl.personal_columns + list(tpl.pseudonyms) + ["_source_row"]
    if rejection is None:
        # raw holds every castable row: take out those validation rejects (usually none)
        deleted = 0
        if conn.execute("select exists (select 1 from _rejected)").fetchone()[0]:
            deleted = conn.execute(sql.SQL(
                """delete from raw.{} t using _rejected r
                   where t._submission_id = %s and t._source_row = r.source_row
                     and not exists (select 1 from _uncastable u where u.source_row = r.source_row)""").format(
                sql.Identifier(tpl.name)), (submission_id,)).rowcount
        # a value raw cannot hold, where validation found nothing else wrong with the row
        conn.execute("""insert into _rejected (source_row, column_name, rule, reason)
                        select u.source_row, u.column_name, u.rule, u.reason from _uncastable u
                        where not exists (select 1 from _rejected r where r.source_row = u.source_row)""")
        loaded = inserted - deleted
        rejected = conn.execute(sql.SQL(
            """insert into ops.rejected_rows (submission_id, row_number, column_name, rule, reason, raw_values)
               select %s, l._source_row, r.column_name, r.rule, r.reason, to_jsonb(l) - %s::text[]
               from {} l join _rejected r on r.source_row = l._source_row order by l._source_row""").format(table),
            (submission_id, hidden)).rowcount
    else:
        loaded = 0
        rejected = conn.execute(sql.SQL(
            """insert into ops.rejected_rows (submission_id, row_number, column_name, rule, reason, raw_values)
               select %s, l._source_row, r.column_name, coalesce(r.rule, %s), coalesce(r.reason, %s),
                      to_jsonb(l) - %s::text[]
               from {} l left join _rejected r on r.source_row = l._source_row order by l._source_row""").format(
            table), (submission_id, rejection["code"], rejection["reason"], hidden)).rowcount
    warned = conn.execute("""select count(distinct source_row) from _findings f where severity = 'warn'
                             and source_row is not null
                             and not exists (select 1 from _rejected r where r.source_row = f.source_row)""").fetchone()[0]
    if loaded + rejected != rows_read:  # never: the constraint rows_accounted would fail the commit anyway
        raise RuntimeError(f"{item.file_name}: {rows_read} rows read but {loaded} loaded + {rejected} rejected")
    return rows_read, loaded, rejected, warned


def _value(tpl_col: Any, ref: sql.Composable) -> sql.Composable:
    """The typed raw value of a load-table text column."""
    kind = tpl_col.type
    if kind == "bool":
        con = contract()
        return sql.SQL("(case when {r} = any({yes}) then true when {r} = any({no}) then false end)").format(
            r=ref, yes=sql.Literal(sorted(con.yes)), no=sql.Literal(sorted(con.no)))
    if kind == "enum" and tpl_col.synonyms:
        whens = sql.SQL(" ").join(sql.SQL("when {} then {}").format(sql.Literal(k), sql.Literal(v))
                                  for k, v in tpl_col.synonyms.items())
        return sql.SQL("(case {} {} else {} end)").format(ref, whens, ref)
    if tpl_col.pg_type == "text":
        return ref
    return sql.SQL("{}::{}").format(ref, sql.SQL(tpl_col.pg_type))


def _castable(tpl_col: Any, ref: sql.Composable) -> sql.Composable | None:
    if tpl_col.type == "bool":
        con = contract()
        return sql.SQL("({r} is null or {r} = any({words}))").format(
            r=ref, words=sql.Literal(sorted(con.yes | con.no)))
    if tpl_col.pg_type == "text":
        return None
    # the validation's own type test (lowincome.parsing), so the two agree on every PostgreSQL version
    return sql.SQL("({r} is null or {ok})").format(r=ref, ok=sql.SQL(parses_sql(ref.as_string(), tpl_col.pg_type)))


def _find_uncastable(conn: psycopg.Connection, table: sql.Composable, tpl: Any, columns: list[str]) -> None:
    """Safety net under validation: a value the typed column cannot hold is a rejected row, not a crash.

    Fills ``_uncastable`` (one row per such source row, its first bad column)."""
    checks = []
    for name in columns:
        if name not in tpl.column_names:
            continue
        col = tpl.column(name)
        ok = _castable(col, sql.SQL("l.{}").format(sql.Identifier(name)))
        if ok is not None:
            checks.append((name, col.zh, ok))
    if not checks:
        return
    first_bad = sql.SQL("case {} end").format(sql.SQL(" ").join(
        sql.SQL("when not {} then {}").format(ok, sql.Literal(name)) for name, _zh, ok in checks))
    bad_reason = sql.SQL("case {} end").format(sql.SQL(" ").join(
        sql.SQL("when not {} then {}").format(ok, sql.Literal(reason("cast_failed", column_zh=zh)))
        for _name, zh, ok in checks))
    any_bad = sql.SQL(" or ").join(sql.SQL("not {}").format(ok) for _n, _z, ok in checks)
    conn.execute(sql.SQL(
        """insert into _uncastable (source_row, column_name, rule, reason)
           select l._source_row, {}, 'cast_failed', {} from {} l where {}""").format(
        first_bad, bad_reason, table, any_bad))


def _insert_raw(tpl: Any, columns: list[str], table: sql.Composable, every_row: bool = False) -> sql.Composed:
    """The load table's rows into raw, typed; all of them when ``every_row``, else those not in _uncastable."""
    targets: list[sql.Composable] = []
    values: list[sql.Composable] = []
    if tpl.fixed_county_code:
        targets.append(sql.Identifier("county_code"))
        values.append(sql.Literal(tpl.fixed_county_code))
    for name in columns:
        ref = sql.SQL("l.{}").format(sql.Identifier(name))
        targets.append(sql.Identifier(name))
        values.append(_value(tpl.column(name), ref) if name in tpl.column_names else ref)
    targets += [sql.Identifier("_submission_id"), sql.Identifier("_source_row")]
    values += [sql.Placeholder("sid"), sql.SQL("l._source_row")]
    keep = sql.SQL("" if every_row else
                   "where not exists (select 1 from _uncastable u where u.source_row = l._source_row)")
    return sql.SQL("insert into raw.{} ({}) select {} from {} l {}").format(
        sql.Identifier(tpl.name), sql.SQL(", ").join(targets), sql.SQL(", ").join(values), table, keep)


def _write_validation(conn: psycopg.Connection, submission_id: int, outcome: dict) -> None:
    results = outcome.get("results", [])
    success = not outcome["file_rejected"] and all(r["success"] for r in results)
    run_id = conn.execute(
        """insert into ops.validation_runs (submission_id, suite, success, started_at, finished_at)
           values (%s, %s, %s, coalesce(%s::timestamptz, now()), coalesce(%s::timestamptz, now())) returning id""",
        (submission_id, outcome["suite"], success, outcome.get("started_at"), outcome.get("finished_at")),
    ).fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany(
            """insert into ops.validation_results (run_id, submission_id, expectation, column_name, severity,
                   success, unexpected_count, observed_value) values (%s, %s, %s, %s, %s, %s, %s, %s)""",
            [(run_id, submission_id, r["expectation"], r["column"], r["severity"], r["success"],
              r["unexpected_count"], r["observed_value"]) for r in results])


def after_commit(conn: psycopg.Connection, cfg: Settings, item: FileRecord, submission_id: int) -> FileOutcome:
    """The repeatable steps after the commit. The files under ``$DATA`` (quarantine, feedback, clearing
    landing) are the file's own business: a step that fails leaves the file in landing, uncleared, for
    the next run, and says so in the outcome; the others' steps go on. Only a lost warehouse connection
    propagates (nothing else could succeed either)."""
    if item.load_table:
        load_tables.drop(conn, item.load_table)
    row = conn.execute("select status, reason_code, reason, file_name, sha256, received_at, rows_loaded, template "
                       "from ops.submissions where id = %s", (submission_id,)).fetchone()
    status, code, why, file_name, sha, received_at, loaded, tpl = row
    if item.load_table:
        refresh_statistics(conn, tpl, loaded)
    failed: list[str] = []
    if status == "rejected":
        # the name escaped (lowincome.display): `cat` on the note must not run an escape sequence it holds
        note = (f"接收编号: {submission_id}\n原文件名: {printable(file_name)}\nSHA-256: {sha}\n"
                f"接收时间: {received_at:%Y-%m-%d %H:%M:%S}\n"
                f"原因代码: {code}\n原因: {why}\n")
        _step(conn, failed, "quarantine copy", lambda: files.quarantine(cfg, sha, file_name, note))
    path = _step(conn, failed, "feedback", lambda: write_feedback(conn, cfg, submission_id))
    if not failed:
        _step(conn, failed, "clearing landing", lambda: _clear_landing(item))
    with conn.transaction():
        conn.execute("update ops.submissions set feedback_path = coalesce(%s, feedback_path), "
                     "cleared_at = case when %s then coalesce(cleared_at, now()) else cleared_at end where id = %s",
                     (str(path) if path else None, not failed, submission_id))
    result = outcome_of(conn, submission_id)
    if failed:
        result.unfinished = "; ".join(failed) + "; the file stays in landing and the next run finishes it"
        log.error("submission %s (%s): %s", submission_id, printable(file_name), printable(result.unfinished))
    return result


def _step(conn: psycopg.Connection, failed: list[str], what: str, work: Callable[[], Any]) -> Any:
    """One step after the commit; its failure is appended to ``failed`` (a lost connection propagates).

    Said without the exception's message unless it is the operating system's (a path under $DATA, made of
    a sanitised name): a library's message may quote a cell, and cells hold names and ID numbers."""
    try:
        return work()
    except Exception as err:  # noqa: BLE001 - the file's outcome, not the night's (see after_commit)
        if isinstance(err, psycopg.OperationalError | psycopg.InterfaceError) or conn.closed:
            raise
        said = f"{type(err).__name__}: {err}" if isinstance(err, OSError) else type(err).__name__
        failed.append(f"{what} failed: {said.splitlines()[0][:300]}")
        return None


def _clear_landing(item: FileRecord) -> None:
    for landed in [item.path, *item.sidecars]:
        files.remove(Path(landed))


def refresh_statistics(conn: psycopg.Connection, template_name: str, loaded: int) -> bool:
    """ANALYZE ``raw.<template>`` when the rows just loaded leave its statistics stale; True if it did.

    The next file's cross-file rules join this table (income -> register), and a table the planner still
    believes empty gets nested loops that are quadratic in the file. Stale: the file loaded at least
    ANALYZE_AFTER rows, and the table was never analysed, was empty when it was, or has grown by
    STALE_SHARE since (raw only grows: its pages now against ``relpages``, which ANALYZE sets in the same
    transaction; the activity counters of ``pg_stat_user_tables`` lag behind the connection that wrote).
    An autovacuum sets ``relpages`` and ``reltuples`` too, and then the planner's sizes are current.
    Analysing after every file instead would cost a sample of the whole table per file, and a night
    brings ~500 files.

    Only :data:`PLANNER_COLUMNS` are analysed (the row and page counts are set all the same), a fraction
    of the cost of every column (benchmarks/RESULTS.md, history, run Q). The other columns' statistics, which only
    the warehouse build's queries use, come from autovacuum's own ANALYZE: an ANALYZE of some columns leaves
    the table's count of changes since the last full one in place (checked on PostgreSQL 18), so
    autovacuum still analyses the whole table once 10% of it has changed.
    """
    if loaded < ANALYZE_AFTER:
        return False
    reltuples, relpages, pages = conn.execute(
        """select reltuples, relpages, pg_relation_size(oid) / current_setting('block_size')::int
           from pg_class where oid = %s::regclass""", (f"raw.{template_name}",)).fetchone()
    if reltuples > 0 and relpages > 0 and pages < relpages * (1 + STALE_SHARE):
        return False
    load_tables.analyze_columns(conn, sql.SQL("raw.{}").format(sql.Identifier(template_name)),
                                planner_columns(template_name))
    return True


def planner_columns(template_name: str) -> list[str]:
    """The :data:`PLANNER_COLUMNS` that ``raw.<template>`` has."""
    tpl = template(template_name)
    present = {c.name for c in tpl.columns} | set(tpl.pseudonyms) | {"_submission_id"}
    if tpl.fixed_county_code:
        present.add("county_code")
    return [c for c in PLANNER_COLUMNS if c in present]


def outcome_of(conn: psycopg.Connection, submission_id: int) -> FileOutcome:
    row = conn.execute(
        """select file_name, status, id, template, county_code, year, rows_read, rows_loaded, rows_rejected,
                  rows_warned, reason_code, reason, feedback_path from ops.submissions where id = %s""",
        (submission_id,)).fetchone()
    return FileOutcome(*row)
