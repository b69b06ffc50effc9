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
from pathlib import Path

import psycopg

from lowincome.config import Settings
from lowincome.ingest import load_tables
from lowincome.ingest.load_tables import IngestRun
from lowincome.ingest.names import contradiction, display_name, hint_from_name, in_scope
from lowincome.ingest.parser import RowStream
from lowincome.ingest.readers import Table, open_table
from lowincome.ingest.reasons import FileRejected, reason
from lowincome.ingest.storage import archive, sha256_of

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
        "explanation": explanation,
    }
    existing = conn.execute("select id, file_name, cleared_at from ops.submissions "
                            "where sha256 = %s and status <> 'duplicate'", (sha,)).fetchone()
    if existing is not None:
        if existing[2] is None and existing[1] == name:
            # committed by a run that died before clearing landing: finish its steps, record nothing new
            item.update(kind="recover", recover_id=existing[0])
        else:
            item.update(kind="duplicate", duplicate_of=existing[0])
        return item
    hint = hint_from_name(name)
    # Until the content says otherwise, the ledger files a file under what its name says (so that a file
    # that cannot be read still shows under its county and year in `lowincome status`).
    item.update(county_code=hint.county_code if hint.county_code and in_scope_any(hint.county_code) else None,
                template=hint.template, year=hint.year)
    try:
        table = open_table(path)
    except FileRejected as rejected:
        return _rejected(item, rejected)
    except (psycopg.Error, MemoryError):
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure on content is the file's outcome
        log.warning("cannot read %s: %s: %s", name, type(err).__name__, err)
        return _rejected(item, FileRejected("unreadable", detail="文件内容无法解析"))
    try:
        _load(item, table, cfg, conn, run, hasher, hint)
    finally:
        table.close()
    item["seconds"] = round(time.perf_counter() - started, 3)
    return item


def in_scope_any(county_code: str) -> bool:
    from lowincome.ingest.names import PROVINCE_CODE, counties

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
    try:
        load_tables.copy_rows(conn, name, stream.load_columns, stream.rows())
    except (psycopg.OperationalError, psycopg.InterfaceError, MemoryError):
        raise
    except (FileRejected, psycopg.DataError, Exception) as err:  # noqa: BLE001 - content problems
        load_tables.drop(conn, name)
        if isinstance(err, FileRejected):
            _rejected(item, err)
        elif isinstance(err, psycopg.DataError):
            _rejected(item, FileRejected("unreadable", detail="文件含有无法保存的字符（如空字符）"))
        elif isinstance(err, psycopg.Error):
            raise
        else:
            log.warning("cannot parse %s: %s: %s", item["file_name"], type(err).__name__, err)
            _rejected(item, FileRejected("unreadable", detail="文件内容无法解析"))
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
