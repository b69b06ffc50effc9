"""Parse one received file: checksum, archive, identify, stream its rows into a load table.

Returns a small dict (the *item*, JSON-safe so the DAG can pass it between tasks) that says what the
file is and where its rows are. Nothing here writes the ledger or ``raw``: that is the load's one
transaction (:mod:`lowincome.ingest.loader`), so a parse can be retried or abandoned freely.

A file problem ends as a rejection in the item (a handled outcome). Any exception raised while
reading the file's content is a file problem too (a reader bug on a strange file must not stop the
night); errors of the warehouse or of our own disk are not, and propagate so the task fails and retries.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from lowincome import speedups
from lowincome.config import Settings
from lowincome.display import printable
from lowincome.ingest import load_tables
from lowincome.ingest.load_tables import IngestRun
from lowincome.ingest.loader import earlier_copy
from lowincome.ingest.names import (
    PROVINCE_CODE,
    contradiction,
    counties,
    display_name,
    hint_from_name,
    in_scope,
)
from lowincome.ingest.parser import RowStream
from lowincome.ingest.readers import Table, open_table, split
from lowincome.ingest.reasons import FileRejected, as_rejection, reason, where_raised
from lowincome.ingest.storage import archive, sha256_of
from lowincome.speedups.two_cores import rows_in_two

log = logging.getLogger(__name__)


def parse_file(path: Path, cfg: Settings, conn: psycopg.Connection, run: IngestRun, hasher,
               sidecars: list[Path] | None = None, explanation: str | None = None) -> dict:
    started = time.perf_counter()
    name = display_name(path)
    sha, size = sha256_of(path)
    item: dict = {
        "path": str(path), "file_name": name, "sha256": sha, "size_bytes": size,
        "archive_path": str(archive(cfg, path, sha)), "sidecars": [str(p) for p in sidecars or []],
        "kind": "parsed", "load_table": None, "rejection": None, "warnings": [], "rows_read": 0,
        "explanation": explanation, "received_on": receipt_date(path),
    }
    existing = earlier_copy(conn, sha, name)
    if existing is not None:
        if existing["cleared_at"] is None and existing["file_name"] == name:
            # committed by a run that died before clearing landing: finish its steps, record nothing new
            item.update(kind="recover", recover_id=existing["id"])
        else:
            item.update(kind="duplicate", duplicate_of=existing["id"])
        return item
    hint = hint_from_name(name)
    # Until the content says otherwise, the ledger files a file under what its name says (so that a file
    # that cannot be read still shows under its county and year in `lowincome status`).
    item.update(county_code=hint.county_code if hint.county_code and in_scope_any(hint.county_code) else None,
                template=hint.template, year=hint.year)
    try:
        table = open_table(path)
    except BaseException as err:  # noqa: BLE001 - sorted by as_rejection: the file's problem or ours
        return _rejected(item, _or_raise(err, name))
    try:
        _load(item, table, cfg, conn, run, hasher, hint)
    finally:
        table.close()
    item["seconds"] = round(time.perf_counter() - started, 3)
    return item


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


def _rejected(item: dict, rejected: FileRejected) -> dict:
    item["rejection"] = {"code": rejected.code, "reason": rejected.reason}
    return item


def _load(item: dict, table: Table, cfg: Settings, conn: psycopg.Connection, run: IngestRun, hasher,
          hint) -> None:
    match = table.match
    tpl = match.template
    stream = RowStream(table, hasher)
    header_row = table.head[max(match.header_rows)][0]
    item.update(template=tpl.name, columns=stream.load_columns, source_format=table.kind,
                source_sheet=table.sheet, source_encoding=table.encoding, header_row=header_row)
    if table.explanation and not item.get("explanation"):
        item["explanation"] = table.explanation
    item["warnings"] = (
        [{"row": header_row, "column": label, "rule": "unknown_column", "reason": reason("unknown_column", label=label)}
         for label in match.unknown] +
        [{"row": header_row, "column": label, "rule": "repeated_column",
          "reason": reason("repeated_column", label=label)} for label in match.repeated])
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
        rejection = _or_raise(err, item["file_name"])
        load_tables.drop(conn, name)
        _rejected(item, rejection)
        return
    item["load_table"] = name
    tally = stream.tally
    item["rows_read"] = tally.rows_read
    county = tpl.fixed_county_code or tally.most_common_county()
    year = tally.most_common_year()
    item.update(county_code=county or item.get("county_code"), year=year or item.get("year"))
    if match.missing:
        zh = "”、“".join(tpl.column(c).zh for c in match.missing)
        _rejected(item, FileRejected("missing_column", column_zh=zh))
    elif tally.rows_read == 0:
        _rejected(item, FileRejected("no_rows"))
    elif county is None:
        _rejected(item, FileRejected("no_county"))
    elif year is None:
        _rejected(item, FileRejected("no_year"))
    elif not in_scope(county, tpl.name):
        _rejected(item, FileRejected("county_out_of_scope", county_code=county))
    else:
        found = contradiction(hint, template=tpl.name, county_code=county, year=year)
        if found is not None:
            _rejected(item, FileRejected(found[0], **found[1]))
