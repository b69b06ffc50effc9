"""Running the stages: one file, one folder (``lowincome ingest DIR``), and the nightly DAG's tasks.

One file (:func:`parse_file`): checksum, archive, then read -> recognise -> normalise into a load table.
It returns a :class:`~lowincome.ingest.record.FileRecord` that says what the file is and where its rows
are (a plain dict in the DAG's XCom: ``to_xcom``/``from_xcom`` at each task's edge). Nothing there writes the ledger or ``raw``: that is the load's one
transaction (:mod:`lowincome.ingest.load`), so a parse can be retried or abandoned freely. A file
problem ends as a rejection in the record (a handled outcome). Any exception raised while reading the
file's content is a file problem too (a reader bug on a strange file must not stop the night); errors
of the warehouse or of our own disk are not, and propagate so the task fails and retries.

Then validate (:mod:`lowincome.ingest.validate`, in two waves) -> load (:mod:`lowincome.ingest.load`)
-> account (:mod:`lowincome.ingest.account`).

The CLI (:func:`ingest_folder`) parses every file, then validates and loads them wave by wave. The DAG
does the same with tasks mapped per county (:func:`plan_batches`, :func:`parse_batch`,
:func:`split_waves`, :func:`validate_batch`, :func:`load_batch`), passing small dicts between them (each file a ``FileRecord.to_xcom()``); the
validation outcome itself (findings can number thousands) waits in the warehouse beside its load table.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from lowincome import heap, night_lock, speedups
from lowincome.accounting import violations
from lowincome.config import Settings, settings
from lowincome.display import printable
from lowincome.ingest import load_tables
from lowincome.ingest.account import FileOutcome
from lowincome.ingest.files import Arrival, archive, arrivals, display_name, refuse_unsafe, sha256_of
from lowincome.ingest.load import earlier_copy, finalise
from lowincome.ingest.load_tables import IngestRun, cli_run
from lowincome.ingest.normalise import RowStream
from lowincome.ingest.read import Table, open_table, split
from lowincome.ingest.reasons import FileRejected, as_rejection, describe, reason, where_raised
from lowincome.ingest.recognise import PROVINCE_CODE, NameHint, counties, hint_from_name, verdict
from lowincome.ingest.record import FileRecord
from lowincome.ingest.validate import load_order, validate_item, wave_of
from lowincome.pseudonym import make_hasher
from lowincome.speedups.two_cores import rows_in_two
from lowincome.warehouse import ensure_ready

log = logging.getLogger(__name__)
APPLICATION = "lowincome-ingest"
SHOWN_VIOLATIONS = 10   # accounting lines in the failing task's message (the rest: `lowincome check`)


def connect(cfg: Settings) -> psycopg.Connection:
    return psycopg.connect(cfg.warehouse_url(), autocommit=True, connect_timeout=10,
                           application_name=APPLICATION)


# --- one file ------------------------------------------------------------------------------------

def parse_file(path: Path, cfg: Settings, conn: psycopg.Connection, run: IngestRun, hasher,
               sidecars: list[Path] | None = None, explanation: str | None = None) -> FileRecord:
    """Checksum and archive a file, then read, recognise and normalise it into a load table."""
    started = time.perf_counter()
    name = display_name(path)
    sha, size = sha256_of(path)
    record = FileRecord(path=str(path), file_name=name, sha256=sha, size_bytes=size,
                        archive_path=str(archive(cfg, path, sha)), received_on=receipt_date(path),
                        sidecars=tuple(str(p) for p in sidecars or []), explanation=explanation)
    existing = earlier_copy(conn, sha, name)
    if existing is not None:
        if existing["cleared_at"] is None and existing["file_name"] == name:
            # committed by a run that died before clearing landing: finish its steps, record nothing new
            return record.replace(kind="recover", recover_id=existing["id"])
        return record.replace(kind="duplicate", duplicate_of=existing["id"])
    hint = hint_from_name(name)
    # Until the content says otherwise, the ledger files a file under what its name says (so that a file
    # that cannot be read still shows under its county and year in `lowincome status`).
    record = record.replace(
        county_code=hint.county_code if hint.county_code and in_scope_any(hint.county_code) else None,
        template=hint.template, year=hint.year)
    try:
        table = open_table(path)
    except BaseException as err:  # noqa: BLE001 - sorted by as_rejection: the file's problem or ours
        return _rejected(record, _or_raise(err, name))
    try:
        record = _into_load_table(record, table, cfg, conn, run, hasher, hint)
    finally:
        table.close()
    return record.replace(seconds=round(time.perf_counter() - started, 3))


def receipt_date(path: Path) -> str:
    """The receipt date the file carries: its modification time (Asia/Shanghai), which an upload to the
    landing folder sets when the file arrives or keeps from the county's copy; never after today."""
    local = ZoneInfo("Asia/Shanghai")
    return min(datetime.fromtimestamp(path.stat().st_mtime, local).date(), datetime.now(local).date()).isoformat()


def _or_raise(err: BaseException, name: str) -> FileRejected:
    rejection = as_rejection(err)
    if rejection is None:
        raise err
    if not isinstance(err, FileRejected):
        # the type only: a parser's message may quote a cell, and cells hold names and ID numbers
        log.warning("cannot read %s: %s in %s", printable(name), type(err).__name__, where_raised(err))
    return rejection


def read_content(path: Path, hasher) -> list[tuple]:
    """The load-table rows of a file, or its FileRejected: the reading half of :func:`parse_file`, for
    inspecting a file by hand and for the readers' property tests. Not for big files (keeps every row)."""
    try:
        table = open_table(path)
    except BaseException as err:  # noqa: BLE001
        raise _or_raise(err, path.name) from err
    try:
        return list(RowStream(table, hasher).rows())
    except BaseException as err:  # noqa: BLE001
        raise _or_raise(err, path.name) from err
    finally:
        table.close()


def in_scope_any(county_code: str) -> bool:
    return county_code in counties() or county_code == PROVINCE_CODE


def _rejected(record: FileRecord, rejected: FileRejected) -> FileRecord:
    return record.replace(rejection={"code": rejected.code, "reason": rejected.reason})


def _into_load_table(record: FileRecord, table: Table, cfg: Settings, conn: psycopg.Connection, run: IngestRun,
                     hasher, hint: NameHint) -> FileRecord:
    """Recognised (the table's header matched a template) and normalised: the rows into a new load table."""
    match = table.match
    tpl = match.template
    stream = RowStream(table, hasher)
    header_row = table.head[max(match.header_rows)][0]
    record = record.replace(
        template=tpl.name, columns=tuple(stream.load_columns), source_format=table.kind, source_sheet=table.sheet,
        source_encoding=table.encoding, header_row=header_row,
        explanation=record.explanation or table.explanation or None,
        warnings=tuple(
            [{"row": header_row, "column": label, "rule": "unknown_column",
              "reason": reason("unknown_column", label=label)} for label in match.unknown] +
            [{"row": header_row, "column": label, "rule": "repeated_column",
              "reason": reason("repeated_column", label=label)} for label in match.repeated]))
    name = load_tables.new_name()
    load_tables.create(conn, name, stream.load_columns, run)
    rows = None
    try:
        # a big CSV or sheet, with the speed-ups on: its second half is parsed by a second process
        second = split(table) if speedups.enabled() else None
        rows = stream.rows() if second is None else rows_in_two(stream, cfg.warehouse_url(), name, second)
        load_tables.copy_rows(conn, name, stream.load_columns, rows)
    except BaseException as err:  # noqa: BLE001 - sorted by as_rejection: the file's problem or ours
        if rows is not None:
            rows.close()   # stops a helper still writing the other half before its table is dropped
        rejection = _or_raise(err, record.file_name)
        load_tables.drop(conn, name)
        return _rejected(record, rejection)
    tally = stream.tally
    county = tpl.fixed_county_code or tally.most_common_county()
    year = tally.most_common_year()
    record = record.replace(load_table=name, rows_read=tally.rows_read, county_code=county or record.county_code,
                            year=year or record.year)
    refused = verdict(match, tally.rows_read, county, year, hint)
    return record if refused is None else _rejected(record, refused)


def parse_arrival(cfg: Settings, conn: psycopg.Connection, run: IngestRun, arrival: Arrival, hasher,
                  order: int) -> FileRecord:
    record = parse_file(arrival.path, cfg, conn, run, hasher, sidecars=arrival.sidecars,
                        explanation=arrival.explanation())
    return record.replace(order=order)


# --- the CLI -------------------------------------------------------------------------------------

def ingest_folder(folder: Path, cfg: Settings, progress: bool = False) -> list[FileOutcome]:
    """Ingest every file waiting in ``folder`` now; one bad file never stops the others.

    Outcomes come back in the order the files arrived. What the process held before (the modules
    ingestion imports) is frozen for the run (:mod:`lowincome.heap`), so full collections do not walk
    it for every file (measured: benchmarks/RESULTS.md, section perfile).
    """
    outcomes: dict[int, FileOutcome] = {}
    items: list[FileRecord] = []
    # the same lock as `lowincome run` and the ingest DAG: one ingestion at a time
    with night_lock.command_lock(cfg.warehouse_url(), "lowincome ingest") as holder, heap.frozen(), \
            connect(cfg) as conn, cli_run(cfg.warehouse_url()) as run:
        refused = [refused_outcome(*entry) for entry in refuse_unsafe(Path(folder), cfg.quarantine_dir)]
        waiting = arrivals(Path(folder))
        dropped = load_tables.drop_stale(conn, run)
        if dropped:
            log.info("dropped %d load tables left by runs that are gone", len(dropped))
        hasher = make_hasher(cfg.hmac_key())
        bar = _progress(len(waiting) * 2, progress)
        for order, arrival in enumerate(waiting):
            with _per_file(conn, arrival.path, order, outcomes):
                items.append(parse_arrival(cfg, conn, run, arrival, hasher, order))
            bar.update(1)
        for item in sorted(items, key=load_order):
            night_lock.confirm(conn, holder)   # never a load after the lock was lost
            with _per_file(conn, Path(item.path), item.order, outcomes):
                # validation runs while the load already writes the rows into raw (load.finalise)
                outcomes[item.order] = finalise(conn, cfg, item, validate=partial(validate_item, cfg, item))
            bar.update(1)
        bar.close()
    return refused + [outcomes[k] for k in sorted(outcomes)]


def refused_outcome(path: Path, why: str, note: Path | None) -> FileOutcome:
    """A landing entry refused unread (a link, a FIFO): not a received file, so not in the ledger."""
    where = f"taken out of landing, see {note}" if note else "left in landing (cannot be taken out): remove it"
    return FileOutcome(file_name=display_name(path), status="refused", reason_code="not_a_regular_file",
                       reason=f"{why}, refused unread; {where}")


class _per_file:
    """A failure of one file becomes its ``error`` outcome (the file stays in landing); the others go on.
    A lost warehouse connection stops the run: nothing else could succeed either."""

    def __init__(self, conn: psycopg.Connection, path: Path, order: int, outcomes: dict[int, FileOutcome]):
        self.conn, self.path, self.order, self.outcomes = conn, path, order, outcomes

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, err, _tb) -> bool:
        if err is None or not isinstance(err, Exception):
            return False
        if isinstance(err, psycopg.OperationalError | psycopg.InterfaceError) or self.conn.closed:
            return False
        reason = describe(err)   # never the raw message of a data error: it may quote a cell
        log.error("ingesting %s failed: %s; the file stays in landing for the next run",
                  printable(display_name(self.path)), printable(reason))
        if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.conn.rollback()
        self.outcomes[self.order] = FileOutcome(file_name=display_name(self.path), status="error",
                                                reason_code="error", reason=reason)
        return True


class _NoBar:
    def update(self, _n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _Lines:
    """Progress as plain lines on stderr, about every tenth of the way (cron, a pipe, a log file)."""

    def __init__(self, total: int):
        self.total, self.done, self.shown = total, 0, 0

    def update(self, n: int) -> None:
        self.done += n
        if self.done == self.total or self.done - self.shown >= max(1, self.total // 10):
            self.shown = self.done
            files = self.total // 2
            step = "read" if self.done <= files else "validated and loaded"
            count = self.done if self.done <= files else self.done - files
            print(f"ingest: {count}/{files} files {step}", file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


def _progress(total: int, show: bool):
    """Progress on stderr (parse, then load: two steps per file): a bar on a terminal, else plain lines."""
    if not show or not total:
        return _NoBar()
    if not sys.stderr.isatty():
        return _Lines(total)
    try:
        from tqdm import tqdm  # comes with dbt/GX; not a dependency of ours
    except ImportError:
        return _Lines(total)
    return tqdm(total=total, desc="ingest", unit="step", file=sys.stderr, leave=False)


def night_conf(conf: dict | None) -> dict:
    """What a night's DAG run conf says to plan_batches (``lowincome run`` passes both)."""
    conf = conf or {}
    return {"landing": conf.get("landing_dir"), "lock_holder": conf.get("lock_holder")}


def plan_batches(run_id: str, landing: str | None = None, lock_holder: str | None = None,
                 cfg: Settings | None = None) -> list[dict]:
    """Warehouse ready, load tables of dead runs dropped, the waiting files grouped per county.

    Files are grouped by the county their *name* points at (the content is read later, in parallel);
    a file whose name names no county goes to the ``unknown`` group. Grouping only spreads the work:
    the content still decides the county, and the load serialises per county/template/year.
    """
    cfg = ensure_ready(cfg or settings())
    folder = Path(landing) if landing else cfg.landing_dir
    if not folder.is_dir():   # a wrong LOWINCOME_DATA_DIR or an unmounted share: not a night with nothing new
        raise RuntimeError(f"landing folder {folder} does not exist or is not a folder; nothing was ingested")
    with connect(cfg) as conn:
        # under `lowincome run` the command holds the lock for its night; under the scheduler this run takes it
        if lock_holder:
            night_lock.confirm(conn, lock_holder)
        else:
            lock_holder = night_lock.take_for_dag(conn, run_id)
        load_tables.drop_stale(conn, IngestRun(run_id=run_id))
    refuse_unsafe(folder, cfg.quarantine_dir)   # links and the like: set aside unread, each logged
    groups: dict[str, list[dict]] = defaultdict(list)
    for arrival in arrivals(folder):
        group = hint_from_name(display_name(arrival.path)).group
        groups[group].append({"path": str(arrival.path), "sidecars": [str(p) for p in arrival.sidecars]})
    return [{"county": county, "run_id": run_id, "lock": lock_holder, "files": files}
            for county, files in sorted(groups.items())]


def parse_batch(batch: dict, cfg: Settings | None = None) -> dict:
    """Parse a county's files into load tables; a retried attempt starts from a clean slate."""
    cfg = cfg or settings()
    _name_map_index(batch["county"])
    run = IngestRun(run_id=batch["run_id"], batch=batch["county"])
    hasher = make_hasher(cfg.hmac_key())
    items = []
    with connect(cfg) as conn:
        night_lock.confirm(conn, batch["lock"])
        load_tables.drop_batch(conn, run)
        for order, entry in enumerate(batch["files"]):
            path = Path(entry["path"])
            if not path.exists():   # finished by an earlier attempt or another run
                continue
            arrival = Arrival(path, [Path(p) for p in entry["sidecars"]])
            items.append(parse_arrival(cfg, conn, run, arrival, hasher, order).to_xcom())
    return {"county": batch["county"], "run_id": batch["run_id"], "lock": batch["lock"], "items": items}


def split_waves(batches: list[dict], parsed: object) -> dict:
    """The parsed files of every county, split into the two waves, each list ordered for loading.

    A county's second-wave batch names the load tables of its first wave (``after``): validation of
    its incomes waits until its register of the same night is in the warehouse.

    Every parsed county is in both waves, with no files in the one it sent nothing for: a wave mapped
    over an empty list leaves its tasks to be skipped in later scheduling passes (under ``dag.test()``
    a 1 s sleep each; a scheduler loop each under a scheduler), which a night of income corrections
    alone would wait on for its empty register wave. An empty batch costs a task instance that does nothing.
    """
    done = task_results(parsed)
    waves: dict[str, list[dict]] = {"registers": [], "dependents": []}
    for batch in done:
        ordered = sorted(map(FileRecord.from_xcom, batch["items"]), key=load_order)
        first = [i for i in ordered if wave_of(i) == 1]
        second = [i for i in ordered if wave_of(i) == 2]
        common = {"county": batch["county"], "run_id": batch["run_id"], "lock": batch["lock"]}
        waves["registers"].append({**common, "items": [i.to_xcom() for i in first]})
        after = [i.load_table for i in first if i.load_table and i.kind == "parsed"]
        waves["dependents"].append({**common, "items": [i.to_xcom() for i in second], "after": after})
    parsed_counties = {p["county"] for p in done}
    waves["unparsed"] = [b["county"] for b in batches if b["county"] not in parsed_counties]
    return waves


def validate_batch(parsed: dict, cfg: Settings | None = None) -> dict:
    """Validate each parsed file; the outcome waits in ops.load_tables beside its load table."""
    cfg = cfg or settings()
    _name_map_index(parsed["county"])
    if not parsed["items"]:
        return parsed   # nothing of this wave from the county (split_waves)
    with connect(cfg) as conn:
        night_lock.confirm(conn, parsed["lock"])
        if parsed.get("after"):
            loaded = {t for (t,) in conn.execute("select load_token from ops.submissions where load_token = any(%s)",
                                                 (parsed["after"],)).fetchall()}
            if set(parsed["after"]) - loaded:
                raise RuntimeError(f"county {parsed['county']}: its registers of this night are not loaded yet, "
                                   "so its other files cannot be checked against them")
        items = []
        for item in map(FileRecord.from_xcom, parsed["items"]):
            outcome = validate_item(cfg, item)
            if outcome is not None:
                load_tables.store_outcome(conn, item.load_table, outcome)
                item = item.replace(validated=True)
            items.append(item.to_xcom())
    return {**parsed, "items": items}


def load_batch(validated: dict, cfg: Settings | None = None) -> dict:
    """Finalise each file (one transaction each); safe to retry: a finalised file is not loaded twice."""
    cfg = cfg or settings()
    _name_map_index(validated["county"])
    outcomes = []
    if not validated["items"]:
        return {"county": validated["county"], "outcomes": outcomes, "loaded": 0}
    with connect(cfg) as conn:
        night_lock.confirm(conn, validated["lock"])
        for item in map(FileRecord.from_xcom, validated["items"]):
            outcome = load_tables.stored_outcome(conn, item.load_table) if item.validated else None
            if item.validated and outcome is None:
                done = conn.execute("select id from ops.submissions where load_token = %s",
                                    (item.load_table,)).fetchone()
                if done is None:
                    raise RuntimeError(f"the validation outcome of {item.file_name} is gone; "
                                       "clear the county's parse task to parse it again")
            outcomes.append(finalise(conn, cfg, item, outcome).to_dict())
    loaded = sum(1 for o in outcomes if o["status"] == "loaded")
    return {"county": validated["county"], "outcomes": outcomes, "loaded": loaded}


def release_lock(run_id: str, cfg: Settings | None = None) -> bool:
    """The DAG run's teardown: give the warehouse lock back if this run took it (not a command's)."""
    with connect(cfg or settings()) as conn:
        return night_lock.release_for_dag(conn, run_id)


def task_results(pulled: object) -> list[dict]:
    """The outputs of a task mapped inside a task group, as Airflow hands them to a task outside it:
    None when no instance ran (an empty wave), one dict when one did, a sequence when several did;
    failed instances are simply absent."""
    if pulled is None:
        return []
    if isinstance(pulled, dict):
        return [pulled]
    return [r for r in pulled if r]  # type: ignore[attr-defined]


def summarise_night(*results: object) -> dict:
    """What the night loaded; ``loaded`` 0 means nothing new reached raw."""
    done = [r for wave in results for r in task_results(wave)]
    outcomes = [o for r in done for o in r["outcomes"]]
    by_status: dict[str, int] = defaultdict(int)
    for o in outcomes:
        by_status[o["status"]] += 1
    return {"batches": sum(1 for r in done if r["outcomes"]), "files": len(outcomes),
            "loaded": sum(r["loaded"] for r in done),
            "by_status": dict(by_status), "rows_loaded": sum(o["rows_loaded"] for o in outcomes),
            # recorded, but a step after the commit failed: in landing until the next night finishes them
            "unfinished": sum(1 for o in outcomes if o.get("unfinished"))}


def publish_summary(raw_event, *results: object) -> dict:
    """The RAW asset event's extra; skips the task (no event) when nothing new was loaded."""
    from airflow.sdk.exceptions import AirflowSkipException

    summary = summarise_night(*results)
    if not summary["loaded"]:
        raise AirflowSkipException("nothing new was loaded: no raw-layer asset event")
    raw_event.extra = summary
    return summary


def check_batches(waves: dict, *results: object, cfg: Settings | None = None) -> None:
    """Fail the run when a county's tasks failed for good (after their retries): not hidden by the rest;
    then when the accounting invariant (:func:`lowincome.accounting.violations`) does not hold."""
    failed = list(waves.get("unparsed", []))
    for wave, done in zip(("registers", "dependents"), results, strict=True):
        finished = {r["county"] for r in task_results(done)}
        failed += [f"{b['county']} ({wave})" for b in waves.get(wave, []) if b["county"] not in finished]
    if failed:
        raise RuntimeError(f"ingestion failed for {len(failed)} county batch(es): {', '.join(failed)}; "
                           "their files stay in landing for the next run (see the task logs)")
    cfg = cfg or settings()
    # an archived copy of a file still waiting in this run's landing folder is in flight, not lost
    landing = {Path(FileRecord.from_xcom(i).path).parent for wave in ("registers", "dependents")
               for b in waves.get(wave, []) for i in b["items"]}
    with connect(cfg) as conn:
        problems = violations(conn, cfg, waiting=sorted(landing))
    if problems:
        shown = problems[:SHOWN_VIOLATIONS]
        more = f"\n… and {len(problems) - len(shown)} more (`lowincome check` lists them all)" \
            if len(problems) > len(shown) else ""
        raise RuntimeError(f"accounting: {len(problems)} broken promise(s) after the load:\n" + "\n".join(shown)
                           + more)


def _name_map_index(county: str) -> None:
    """Show the county code as the mapped task's name in the Airflow UI (map_index_template)."""
    try:
        from airflow.sdk import get_current_context

        get_current_context()["county"] = county  # type: ignore[typeddict-unknown-key]
    except Exception:  # noqa: BLE001 - outside a task (tests, CLI) there is no context to name
        pass
