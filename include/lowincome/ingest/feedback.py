"""The county's feedback file, in Chinese, written from the ledger (so it can be written again).

``$DATA/feedback/<county_code>/<date>_<submission id>_<file>_反馈.csv`` (UTF-8 with BOM, opens in
Excel) or ``.xlsx`` when the county sent a workbook, in the folder of the county that sent the file
(:func:`~lowincome.ingest.names.sender_county`): one line for the file, then one per problem with
the county's own row number, the column, the value they sent (never for personal columns), the reason
and what was done. Every text cell is neutralised against spreadsheet formula injection: a cell that
starts with ``= + - @``, a tab or a carriage return gets a leading ``'``, so Excel shows it as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from lowincome.config import Settings
from lowincome.ingest.names import inside, safe_county_dir, safe_name, sender_county
from lowincome.ingest.storage import private_folder, write_atomic
from lowincome.templates import templates

HEADER = ["文件名", "行号", "列名", "填报值", "问题说明", "处理结果"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHOWN_CHARS = 100   # of a value sent: a longer one is shown cut, with "…" (Excel holds 32,767 in a cell)
STATUS_ZH = {"loaded": "已入库", "rejected": "整个文件退回", "duplicate": "重复文件，未重复入库",
             "superseded": "已被后来上报的文件替代"}


def neutralise(value: Any) -> Any:
    """A cell that a spreadsheet would run as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def feedback_rows(conn: psycopg.Connection, submission_id: int) -> Iterator[list[Any]]:
    """The lines of the feedback file (without the header), from the ledger."""
    (file_name, status, tpl_name, rows_read, rows_loaded, rows_rejected, rows_warned, code, why,
     explanation) = conn.execute(
        """select file_name, status, template, rows_read, rows_loaded, rows_rejected, rows_warned, reason_code,
                  reason, explanation from ops.submissions where id = %s""", (submission_id,)).fetchone()
    tpl = templates().get(tpl_name) if tpl_name else None
    zh = {c.name: c.zh for c in tpl.columns} if tpl else {}
    personal = set(tpl.personal_columns) if tpl else set()
    if status == "loaded":
        summary = (f"文件已接收：读入{rows_read}行，入库{rows_loaded}行，退回{rows_rejected}行，"
                   f"提示{rows_warned}行（退回的行请改正后随全表重新上报）")
    else:
        summary = why or ""
    if explanation:
        summary += "；已收到上报说明，提示类问题视为已说明"
    yield [file_name, "", "", "", summary, STATUS_ZH.get(status, status)]
    if status == "duplicate":
        return
    problems = conn.execute(
        """select row_number, column_name, raw_values ->> column_name, reason, '该行退回', 0, id from ops.rejected_rows
           where submission_id = %s and rule is distinct from %s
           union all
           select row_number, column_name, null, reason,
                  case when accepted then '提示（已说明）'
                       when %s <> 'loaded' or exists (select 1 from ops.rejected_rows r
                           where r.submission_id = w.submission_id and r.row_number = w.row_number)
                       then '提示（未入库）' else '提示（已入库）' end, 1, id from ops.row_warnings w
           where submission_id = %s
           order by 1 nulls first, 6, 7""", (submission_id, code, status, submission_id))
    for row_number, column, value, reason, action, _kind, _id in problems:
        shown = None if column in personal else value
        if shown is not None and len(shown) > SHOWN_CHARS:   # a cell rejected as too long: its start is enough
            shown = shown[:SHOWN_CHARS] + "…"
        yield [file_name, row_number if row_number is not None else "", zh.get(column, column or ""),
               shown if shown is not None else "", reason, action]


def feedback_path(cfg: Settings, conn: psycopg.Connection, submission_id: int) -> Path:
    county, file_name, received_at, fmt = conn.execute(
        "select county_code, file_name, received_at, source_format from ops.submissions where id = %s",
        (submission_id,)).fetchone()
    stem = safe_name(file_name.rsplit(".", 1)[0])
    suffix = "xlsx" if fmt == "xlsx" else "csv"
    name = f"{received_at:%Y%m%d}_{submission_id}_{stem}_反馈.{suffix}"
    return inside(cfg.feedback_dir, safe_county_dir(sender_county(file_name, county)), name)


def write_feedback(conn: psycopg.Connection, cfg: Settings, submission_id: int) -> Path:
    path = feedback_path(cfg, conn, submission_id)
    private_folder(cfg.feedback_dir, path.parent)   # values of personal columns are never shown, others are
    rows = ([neutralise(v) for v in row] for row in feedback_rows(conn, submission_id))
    if path.suffix == ".xlsx":
        write_atomic(path, _xlsx_bytes(rows))
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
        write_atomic(path, buffer.getvalue().encode("utf-8-sig"))
    return path


def _xlsx_bytes(rows: Iterator[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("反馈")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
