"""Accounting for every file (the last stage): its outcome, the county's feedback, ``lowincome status``.

What became of one file is a :class:`FileOutcome` (a line of the CLI's table, :func:`format_outcomes`;
a dict in XCom). The ledger (``ops.submissions``) is written by the load's one transaction
(:mod:`lowincome.ingest.load`); what is read from it here:

The county's feedback file, in Chinese, written from the ledger (so it can be written again):
``$DATA/feedback/<county_code>/<date>_<submission id>_<file>_反馈.csv`` (UTF-8 with BOM, opens in
Excel) or ``.xlsx`` when the county sent a workbook, in the folder of the county that sent the file
(:func:`~lowincome.ingest.recognise.sender_county`): one line for the file, then one per problem with
the county's own row number, the column, the value they sent (never for personal columns), the reason
and what was done. Every text cell is neutralised against spreadsheet formula injection: a cell that
starts with ``= + - @``, a tab or a carriage return gets a leading ``'``, so Excel shows it as text.

``lowincome status``, by county, year and template: what arrived and became of it, what is still
missing (a county in scope without an accepted file of a template for a year the ledger knows), and
which files were rejected and why.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import psycopg

from lowincome.config import Settings, settings
from lowincome.display import printable
from lowincome.errors import UserError
from lowincome.ingest.files import inside, private_folder, safe_county_dir, safe_name, write_atomic
from lowincome.ingest.recognise import PROVINCE_CODE, counties, sender_county
from lowincome.templates import templates


@dataclass
class FileOutcome:
    """What became of one received file (one row of the CLI's outcome table; a dict in XCom)."""

    file_name: str
    status: str                      # loaded | rejected | duplicate | error
    submission_id: int | None = None
    template: str | None = None
    county_code: str | None = None
    year: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0
    reason_code: str | None = None
    reason: str | None = None
    feedback_path: str | None = None
    superseded: list[int] = field(default_factory=list)
    unfinished: str | None = None    # a step after the commit that failed: the file waits in landing

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def format_outcomes(outcomes: list[FileOutcome]) -> str:
    """The per-file outcome table the CLI prints."""
    if not outcomes:
        return "no files waiting"
    head = ("file", "status", "county", "template", "year", "read", "loaded", "rejected", "warned", "reason")
    lines = [head]
    for o in outcomes:   # every cell printable: a name's escape sequence or line break never reaches the terminal
        lines.append(tuple(map(printable, (
            o.file_name, o.status, o.county_code or "-", o.template or "-", str(o.year or "-"),
            str(o.rows_read), str(o.rows_loaded), str(o.rows_rejected), str(o.rows_warned),
            f"{o.reason_code}: {o.reason}" if o.reason_code else ""))))
    widths = [min(max(_width(row[i]) for row in lines), 48) for i in range(len(head) - 1)]
    out = []
    for row in lines:
        cells = [_pad(_clip(row[i], widths[i]), widths[i]) for i in range(len(head) - 1)]
        out.append("  ".join(cells + [row[-1]]).rstrip())
    counts = defaultdict(int)
    for o in outcomes:
        counts[o.status] += 1
    out.append("")
    out.append(f"{len(outcomes)} files: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
               + f"; rows loaded {sum(o.rows_loaded for o in outcomes)}, rejected {sum(o.rows_rejected for o in outcomes)}")
    waiting = [o for o in outcomes if o.unfinished]
    if waiting:
        out.append(f"{len(waiting)} file(s) recorded in the ledger but still in landing (the next run finishes them):")
        out += [f"  {printable(o.file_name)}: {printable(o.unfinished)}" for o in waiting]
    return "\n".join(out)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _clip(text: str, width: int) -> str:
    if _width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


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


STATUS_ORDER = ("loaded", "rejected", "superseded", "duplicate")
PROVINCE_NAME = "浙江省"


def place_names() -> dict[str, str]:
    """county_code -> name of every county in scope, and the province's code -> 浙江省."""
    return {**counties(), PROVINCE_CODE: PROVINCE_NAME}


def status_report(conn: psycopg.Connection, county: str | None = None, year: int | None = None) -> str:
    """The ledger as text for the terminal; ``county`` (code or name) and ``year`` narrow it."""
    code = resolve_county(county)
    rows = conn.execute(
        """select id, county_code, template, year, status, file_name, rows_read, rows_loaded, rows_rejected,
                  rows_warned, reason_code, reason, received_at
           from ops.submissions
           where (%(c)s::text is null or county_code = %(c)s) and (%(y)s::int is null or year = %(y)s)
           order by county_code nulls last, year nulls last, template nulls last, id""",
        {"c": code, "y": year}).fetchall()
    # every text the ledger got from a file (its name, a county code or year read from it, reasons that
    # quote them) is printed escaped: one line per row, no escape sequence reaching the terminal
    rows = [tuple(printable(v) if isinstance(v, str) else v for v in r) for r in rows]
    names = place_names()
    lines: list[str] = []
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r[4]] += 1
    scope = f" for {printable(code)} {names.get(code, '')}".rstrip() if code else ""
    scope += f" in {year}" if year else ""
    lines.append(f"Ledger{scope}: {len(rows)} files received ("
                 + ", ".join(f"{totals[s]} {s}" for s in STATUS_ORDER if totals[s]) + ")" if rows
                 else f"Ledger{scope}: no files received yet")
    by_county: dict[str | None, list] = defaultdict(list)
    for r in rows:
        by_county[r[1]].append(r)
    for county_code, subs in by_county.items():
        title = county_code or "(unknown county)"
        lines.append("")
        lines.append(f"{title} {names.get(county_code or '', '')}".rstrip())
        lines.append(f"  {'year':<5} {'template':<22} {'status':<10} {'read':>7} {'loaded':>7} {'rejected':>8}"
                     f"  {'received':<16}  file")
        for (sid, _c, tpl, yr, status, file_name, read, loaded, rejected, _warned, _code, _reason,
             received) in subs:
            lines.append(f"  {str(yr or '-'):<5} {tpl or '-':<22} {status:<10} {read:>7} {loaded:>7} {rejected:>8}"
                         f"  {received:%Y-%m-%d %H:%M}  #{sid} {file_name}")
    lines += _missing_lines(_missing(conn, code, year), names)
    rejected = [r for r in rows if r[4] == "rejected"]
    if rejected:
        lines.append("")
        lines.append("Rejected files and why:")
        for r in rejected:
            where = f"{r[1]} {names[r[1]]}" if r[1] in names else (r[1] or "?")
            lines.append(f"  #{r[0]} {r[5]} ({where} {r[2] or '?'} {r[3] or '?'}): {r[10]}: {r[11]}")
    partial = [r for r in rows if r[4] == "loaded" and r[8]]
    if partial:
        lines.append("")
        lines.append("Loaded with rejected rows (see ops.rejected_rows and the county's feedback file):")
        for r in partial:
            top = conn.execute("""select reason, count(*) from ops.rejected_rows where submission_id = %s
                                  group by reason order by 2 desc, 1 limit 3""", (r[0],)).fetchall()
            why = "; ".join(f"{printable(reason)} ×{n}" for reason, n in top)
            lines.append(f"  #{r[0]} {r[5]}: {r[8]} of {r[6]} rows rejected: {why}")
    return "\n".join(lines)


def _missing_lines(missing: dict[tuple[str, int], list[str]], names: dict[str, str]) -> list[str]:
    """Per year and template, the counties without an accepted file (a count when most are missing)."""
    if not missing:
        return []
    by_template: dict[tuple[int, str], list[str]] = defaultdict(list)
    for (county_code, yr), tpls in missing.items():
        for tpl in tpls:
            by_template[(yr, tpl)].append(county_code)
    order = list(templates())
    total = len(counties())
    lines = ["", "Missing (no accepted file yet):"]
    for (yr, tpl), codes in sorted(by_template.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))):
        label = [names.get(c, c) for c in sorted(codes)]
        if len(codes) <= 10:
            text = "、".join(label)
        else:
            received = sorted(set(counties()) - set(codes))
            text = f"{len(codes)} of {total} counties" + (
                f" (received only from {'、'.join(names[c] for c in received)})" if 0 < len(received) <= 10 else "")
        lines.append(f"  {yr} {tpl:<22} {text}")
    return lines


def resolve_county(county: str | None) -> str | None:
    """The code of a county given by code or name (330803, 衢江区, 衢江), or of the province (330000, 浙江省);
    anything else is a :class:`UserError`: an unknown code would only list every template as missing."""
    if county is None:
        return None
    county = county.strip()
    names = place_names()
    if county in names:
        return county
    for code, name in names.items():
        if county in (name, name.rstrip("市县区"), name.rstrip("省")):
            return code
    raise UserError(f"unknown county {printable(county)!r}: give one of the {len(counties())} county codes or names "
                    f"of include/config/counties.csv (e.g. 330803 or 衢江区), or {PROVINCE_CODE} {PROVINCE_NAME}")


@cache
def first_years() -> dict[str, int]:
    """The first year each template is due, from the reporting calendar (the seed the completeness mart
    reads): project_funds (公告公示) starts with the plan, in 2013; a year before it is missing nothing."""
    path = settings().dbt_project_dir / "seeds" / "reporting_calendar.csv"
    found: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found[row["template"]] = min(found.get(row["template"], 9999), int(row["year"]))
    return found


def _missing(conn: psycopg.Connection, code: str | None, year: int | None) -> dict[tuple[str, int], list[str]]:
    """County-years of the ledger's years lacking an accepted (loaded) file of a template."""
    years = [y for (y,) in conn.execute("select distinct year from ops.submissions where year is not null "
                                        "and status in ('loaded', 'superseded') order by 1").fetchall()]
    if year is not None:
        years = [year]
    accepted = {(c, t, y) for c, t, y in conn.execute(
        "select county_code, template, year from ops.submissions where status = 'loaded'").fetchall()}
    wanted_counties = [code] if code else sorted(counties()) + [PROVINCE_CODE]
    missing: dict[tuple[str, int], list[str]] = defaultdict(list)
    first = first_years()
    for county_code in wanted_counties:
        for tpl in templates().values():
            fixed = tpl.fixed_county_code
            if (fixed is None) == (county_code == PROVINCE_CODE):
                continue
            for y in years:
                if y >= first.get(tpl.name, y) and (county_code, tpl.name, y) not in accepted:
                    missing[(county_code, y)].append(tpl.name)
    return missing
