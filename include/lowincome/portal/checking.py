"""审核 in the portal: one uploaded file through the night's own reading and validation, and its findings
as the night's feedback file would list them; then submit it into landing, or withdraw it.

The file is parsed by :func:`lowincome.ingest.pipeline.parse_file` into a load table (as the night does),
validated by :func:`lowincome.ingest.validate.validate_item` (the GX suites of the night), and the table is
dropped after. Nothing is written to ``raw`` or the ledger: the lines the county would read in its
feedback file (:func:`lowincome.ingest.account.feedback_rows`) are computed from the parse and the
validation outcome the same way the loader records them (:func:`lowincome.ingest.load._write_rows`), and
a test compares them with the feedback of the same file ingested at night. The parse archives the original
bytes, as always, but into the portal's own scratch folder, never into ``$DATA/archive`` (only the night
archives what it received).

A submitted file enters the landing folder exactly as a dropped file (its 上报说明, if any, as the
sidecar ``<stem>.上报说明.txt``); the night does the rest with all its guarantees.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.ingest import load_tables
from lowincome.ingest.account import SHOWN_CHARS, STATUS_ZH, neutralise
from lowincome.ingest.files import private_folder, safe_name
from lowincome.ingest.load import _find_uncastable
from lowincome.ingest.pipeline import connect, parse_file
from lowincome.ingest.read import check_zip
from lowincome.ingest.reasons import FileRejected, reason
from lowincome.ingest.recognise import sender_county
from lowincome.ingest.record import FileRecord
from lowincome.ingest.validate import validate_item
from lowincome.pseudonym import make_hasher
from lowincome.templates import template, templates

SUFFIXES = (".csv", ".xlsx", ".xls")
MAX_BYTES = int(os.environ.get("LOWINCOME_PORTAL_MAX_MB", "20")) * 1024 * 1024
SEVERITY_ZH = {"reject_file": "整个文件退回", "reject_row": "该行退回", "warn": "提示"}


class Refused(UserError):
    """An upload refused before it is read (a bad name, too big, a zip bomb): said to the clerk as is, with
    the HTTP status of the answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def uploads_dir(cfg: Settings) -> Path:
    return cfg.data_dir / "portal" / "uploads"


def upload_name(name: str) -> str:
    """The name a file is checked and submitted under; a name that is not a plain file name is refused."""
    name = unicodedata.normalize("NFC", name or "")
    if not name or "/" in name or "\\" in name or name.startswith(".") or ".." in name \
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise Refused("文件名不能含有路径、“..”或控制字符，请使用普通文件名（例如 330803_households_2014.xlsx）"
                      " / the file name must be a plain name, without folders, '..' or control characters")
    if not name.lower().endswith(SUFFIXES):
        raise Refused("只接受 .csv、.xlsx 或 .xls 文件 / only .csv, .xlsx or .xls files are accepted")
    safe = safe_name(name)
    if safe != name and not safe.lower().endswith(SUFFIXES):
        raise Refused("文件名无法使用，请改名后上报 / the file name cannot be used; rename the file")
    return safe


def stage(cfg: Settings, name: str, chunks) -> tuple[str, Path]:
    """Write an upload (an iterable of byte chunks) to ``$DATA/portal/uploads/<token>/<name>``, 0600 in 0700
    folders, refusing it past :data:`MAX_BYTES`. Returns the token and the path. The token is random: a
    staged file is never served back and never reachable by a name someone could guess."""
    token = secrets.token_hex(16)
    folder = uploads_dir(cfg) / token
    private_folder(cfg.data_dir, folder)
    path = folder / name
    size = 0
    try:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > MAX_BYTES:
                    raise Refused(f"文件超过{MAX_BYTES // 1024 // 1024}MB，请按县、按模板分开上报 / the file is "
                                  f"larger than {MAX_BYTES // 1024 // 1024} MB", status=413)
                out.write(chunk)
        if size == 0:
            raise Refused("文件为空（0字节），请重新导出后上报 / the file is empty")
        if path.suffix.lower() in (".xlsx",):
            try:
                check_zip(path)
            except FileRejected as err:
                if err.code == "zip_bomb":
                    raise Refused(err.reason + " / refused: the workbook unpacks to an abnormal size") from None
    except BaseException:
        discard(cfg, token)
        raise
    return token, path


def staged_path(cfg: Settings, token: str, name: str) -> Path:
    if not token.isalnum():
        raise ValueError("not a token")
    return uploads_dir(cfg) / token / name


def discard(cfg: Settings, token: str) -> None:
    if token.isalnum():
        shutil.rmtree(uploads_dir(cfg) / token, ignore_errors=True)


# --- the check ------------------------------------------------------------------------------------

def check(cfg: Settings, path: Path, explanation: str | None = None) -> dict[str, Any]:
    """Parse and validate a file as the night would; the feedback lines it would get, without loading it.

    Returns template, county_code, year, rows_read, verdict (loaded / rejected / duplicate), summary (the
    feedback's first line), findings (one dict per further line: row, column, value, reason, action,
    severity) and warnings (the number of warning lines not accepted by an explanation)."""
    # The parse archives the original and validation stores its GX result for the Data Docs: both into the
    # portal's own data folder, never $DATA's (the night's archive and results are the night's alone)
    local = dataclasses.replace(cfg, data_dir=checks_dir(cfg))
    private_folder(cfg.data_dir, local.data_dir)
    item: FileRecord | None = None
    try:
        with load_tables.cli_run(cfg.warehouse_url()) as run, connect(cfg) as conn:
            item = parse_file(path, local, conn, run, make_hasher(cfg.hmac_key()), explanation=explanation)
            try:
                if item.kind != "parsed":   # the same bytes were accepted already
                    original = item.duplicate_of or item.recover_id
                    return _result(item, "duplicate", reason("duplicate", duplicate_of=original), [])
                outcome = validate_item(local, item)
                return _feedback(conn, item, outcome)
            finally:
                if item.load_table:
                    load_tables.drop(conn, item.load_table)
    finally:
        if item is not None:
            Path(item.archive_path).unlink(missing_ok=True)


def checks_dir(cfg: Settings) -> Path:
    """The portal's data folder for checks: the parse's archive copy (removed after each check) and GX's
    stored results (the newest few per county, template and year, as in $DATA)."""
    return cfg.data_dir / "portal" / "checks"


def _result(item: FileRecord, verdict: str, summary: str, findings: list[dict]) -> dict[str, Any]:
    return {"template": item.template, "county_code": item.county_code, "year": item.year,
            "rows_read": item.rows_read, "verdict": verdict, "summary": summary, "findings": findings,
            "warnings": sum(1 for f in findings if f["severity"] == "warn" and f["action"] != "提示（已说明）"),
            "file_name": item.file_name, "status_zh": STATUS_ZH.get(verdict, verdict)}


def _feedback(conn: psycopg.Connection, item: FileRecord, outcome: dict | None) -> dict[str, Any]:
    """The feedback lines of :func:`lowincome.ingest.account.feedback_rows` for this parse and outcome,
    recorded the way :func:`lowincome.ingest.load._write_rows` records them."""
    findings = (outcome or {}).get("findings", [])
    rejection = item.rejection or (
        {"code": outcome["reason_code"], "reason": outcome["reason"]} if outcome and outcome["file_rejected"]
        else None)
    status = "rejected" if rejection else "loaded"
    # rows rejected by validation: per row, its reasons in finding order (distinct), its first column and rule
    by_row: dict[int, dict] = {}
    for f in findings:
        if f["severity"] != "reject_row" or f["source_row"] is None:
            continue
        entry = by_row.setdefault(f["source_row"], {"column": f["column"], "rule": f["rule"], "reasons": []})
        if f["reason"] not in entry["reasons"]:
            entry["reasons"].append(f["reason"])
    rejected = {row: (e["column"], e["rule"], "；".join(e["reasons"])) for row, e in by_row.items()}
    tpl = templates()[item.template] if item.template else None
    personal = set(tpl.personal_columns) if tpl else set()
    hidden = personal | set(tpl.pseudonyms if tpl else [])
    rows_read = loaded = 0
    lines: list[tuple] = []
    name = item.load_table
    if name:
        table = load_tables.ident(name)
        rows_read = conn.execute(psycopg.sql.SQL("select count(*) from {}").format(table)).fetchone()[0]
        if rejection is None:
            for row, col, rule, why in _uncastable(conn, item, table):
                rejected.setdefault(row, (col, rule, why))
        values = _values(conn, table, list(item.columns), hidden)
        code = rejection["code"] if rejection else None
        # a rejected file lists every row (with its own reason where validation found one), else the
        # rejected rows only; the file's own reason is said once, in the first line
        for row in sorted(values) if rejection else sorted(r for r in rejected if r in values):
            col, rule, why = rejected.get(row, (None, code, rejection["reason"] if rejection else None))
            if rejection is not None and rule == code:
                continue
            lines.append((row, 0, col, values[row].get(col) if col else None, why, "该行退回", "reject_row"))
        loaded = 0 if rejection else rows_read - len(rejected)
    warnings = [(w["row"], w["column"], w["reason"], False) for w in item.warnings]
    warnings += [(f["source_row"], f["column"], f["reason"], bool(f.get("accepted")))
                 for f in findings if f["severity"] == "warn"]
    for row, col, why, accepted in warnings:
        action = ("提示（已说明）" if accepted else "提示（未入库）" if status != "loaded" or row in rejected
                  else "提示（已入库）")
        lines.append((row, 1, col, None, why, action, "warn"))
    lines.sort(key=lambda line: (line[0] is not None, line[0] or 0, line[1]))   # stable: as recorded
    zh = {c.name: c.zh for c in tpl.columns} if tpl else {}
    shown = []
    for row, _kind, col, value, why, action, severity in lines:
        if value is not None and len(value) > SHOWN_CHARS:
            value = value[:SHOWN_CHARS] + "…"
        shown.append({"row": row, "column": zh.get(col, col or ""), "value": "" if value is None else value,
                      "reason": why, "action": action, "severity": severity})
    if status == "loaded":
        warned = len({f["source_row"] for f in findings if f["severity"] == "warn" and f["source_row"] is not None
                      and f["source_row"] not in rejected})
        summary = (f"文件已接收：读入{rows_read}行，入库{loaded}行，退回{len(rejected)}行，"
                   f"提示{warned}行（退回的行请改正后随全表重新上报）")
    else:
        summary = rejection["reason"] or ""
    if item.explanation:
        summary += "；已收到上报说明，提示类问题视为已说明"
    result = _result(item, status, summary, shown)
    result["rows_read"] = rows_read
    if rejection is not None:
        result["reject_file"] = rejection["reason"]
    return result


def _uncastable(conn: psycopg.Connection, item: FileRecord, table) -> list[tuple]:
    """The loader's safety net (a value raw's type cannot hold is a rejected row), on the load table,
    in a transaction rolled back: nothing is written anywhere."""
    with conn.transaction(force_rollback=True):
        conn.execute("create temp table _uncastable (source_row integer, column_name text, rule text, "
                     "reason text) on commit drop")
        _find_uncastable(conn, table, template(item.template), list(item.columns))
        return conn.execute("select source_row, column_name, rule, reason from _uncastable").fetchall()


def _values(conn: psycopg.Connection, table, columns: list[str], hidden: set[str]) -> dict[int, dict]:
    """Every row of the load table: its sent values without the personal and pseudonymised columns (as
    ``ops.rejected_rows.raw_values``)."""
    shown = [c for c in columns if c not in hidden]
    query = psycopg.sql.SQL("select _source_row, {} from {}").format(
        psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, shown)) if shown else psycopg.sql.SQL("null"), table)
    return {row[0]: dict(zip(shown, row[1:], strict=False)) for row in conn.execute(query).fetchall()}


# --- submit ---------------------------------------------------------------------------------------

def belongs_to(result: dict, county: str) -> bool:
    """The clerk's county sent it: the county the night's feedback would go to (the county the file's
    name names, else the county of its rows) is the clerk's, and its rows are of no other county."""
    return (sender_county(result["file_name"], result.get("county_code")) == county
            and result.get("county_code") in (None, county))


def submit(cfg: Settings, path: Path, explanation: str | None) -> Path:
    """Put a checked file into landing under its name (with its 上报说明 as a sidecar): a dropped file.

    Written under a hidden temporary name and renamed, so a night never reads half a file."""
    landing = cfg.landing_dir
    landing.mkdir(parents=True, exist_ok=True)
    target = landing / path.name
    sidecar = landing / f"{path.stem}.上报说明.txt"
    if target.exists() or sidecar.exists():
        raise Refused("同名文件已在等待今晚处理，请勿重复上报 / a file of this name is already waiting for tonight",
                      status=409)
    if explanation:
        _write_new(sidecar, explanation.encode("utf-8"))
    _write_new(target, path.read_bytes())
    return target


def _write_new(target: Path, data: bytes) -> None:
    temp = target.with_name(f".{secrets.token_hex(8)}.portal.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with open(fd, "wb") as out:
        out.write(data)
    os.rename(temp, target)


def as_feedback_lines(result: dict) -> list[list[Any]]:
    """A check's result as the lines of the county's feedback file (:func:`feedback_rows`, neutralised)."""
    name = result["file_name"]
    lines = [[name, "", "", "", result["summary"], result["status_zh"]]]
    lines += [[name, f["row"] if f["row"] is not None else "", f["column"], f["value"], f["reason"], f["action"]]
              for f in result["findings"]]
    return [[neutralise(v) for v in line] for line in lines]


STAGED_DAYS = 3   # a checked file neither submitted nor withdrawn is withdrawn after this many days


def expire(cfg: Settings, conn: psycopg.Connection) -> int:
    """Withdraw the checked files left undecided for :data:`STAGED_DAYS` days: their staged copies (personal
    data) are deleted. Returns how many."""
    gone = conn.execute(
        """update ops.portal_uploads set state = 'withdrawn', decided_at = now()
           where state = 'checked' and checked_at < now() - make_interval(days => %s) returning id, token""",
        (STAGED_DAYS,)).fetchall()
    for upload_id, token in gone:
        discard(cfg, token)
        conn.execute("insert into ops.portal_actions (action, object, outcome) values ('withdraw', %s, 'expired')",
                     (f"upload {upload_id}",))
    return len(gone)
