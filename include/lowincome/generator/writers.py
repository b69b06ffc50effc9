"""Writing a table the way a county would: CSV in its encoding, or an XLSX workbook streamed row by row.

Files are byte-identical for the same input: no wall-clock time reaches them (openpyxl's document
properties and the zip entries' timestamps are fixed).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from lowincome.generator.styles import SubmissionStyle
from lowincome.templates import Column, Template, template

FIXED_TIME = dt.datetime(2013, 1, 1, 0, 0, 0)
_ZIP_TIME = (2013, 1, 1, 0, 0, 0)

# Two-row header with merged group cells, as county statisticians lay out the income sheet.
HEADER_GROUPS: dict[str, list[tuple[str, list[str]]]] = {
    "household_income": [
        ("收入构成", ["wage_income", "business_income", "property_income", "transfer_income"]),
        ("生活消费支出情况", ["consumption_expenditure", "education_expenditure", "medical_expenditure"]),
        ("救助情况", ["education_aid", "medical_aid"]),
        ("劳动力就业培训", ["employed_labour", "trained_persons"]),
    ],
}


@dataclass
class Table:
    """One file's worth of rows; cells hold Python values (str, int, float, bool, date or None)."""

    template: Template
    county_code: str
    county_name: str
    year: int
    columns: list[str]
    rows: list[list[Any]]
    # rows that are not data: blank rows and the 合计 line (by identity), for counting
    non_data: set[int] = field(default_factory=set)

    @property
    def data_rows(self) -> int:
        return len(self.rows) - sum(1 for r in self.rows if id(r) in self.non_data)


@dataclass(frozen=True)
class Layout:
    """Workbook layout choices beyond the style (used for deliberate variants)."""

    merged_header: bool = False
    cover_sheet: bool = False  # an instructions sheet first, data on the second sheet


def file_name(county_code: str, template: str, year: int, fmt: str) -> str:
    return f"{county_code}_{template}_{year}.{fmt}"


def header_label(col: Column, style: SubmissionStyle) -> str:
    if style.headers == "en":
        return col.name
    base = col.aliases[0] if style.headers == "zh_alias" and col.aliases else col.zh
    if col.name in style.wan_yuan:
        return f"{base}(万元)"
    if style.headers == "zh_unit" and col.type == "money":
        left, right = style.unit_brackets
        return f"{base}{left}元{right}"
    return base


def header_labels(table: Table, style: SubmissionStyle) -> list[str]:
    return [header_label(table.template.column(name), style) for name in table.columns]


def title_text(table: Table) -> str:
    return f"{table.county_name}{table.year}年{table.template.zh}"


def unit_text(table: Table) -> str:
    has_money = any(table.template.column(c).type == "money" for c in table.columns)
    return "单位:元" if has_money else "单位:户、人"


def preamble_rows(table: Table, style: SubmissionStyle, layout: Layout = Layout()) -> int:
    """Rows above the first data row: title and unit rows (XLSX), then one or two header rows."""
    if style.fmt == "csv":
        return 1
    header = 2 if layout.merged_header and table.template.name in HEADER_GROUPS else 1
    return int(style.title_row) + int(style.unit_row) + header


def _wan(value: float) -> str:
    return f"{value / 10000:.6f}".rstrip("0").rstrip(".")


def _csv_formatter(col: Column, style: SubmissionStyle) -> Callable[[Any], str]:
    wan = col.name in style.wan_yuan
    yes, no = style.yes, style.no
    slash = style.date_style == "slash"

    def fmt(value: Any) -> str:
        kind = type(value)
        if kind is str:
            return value
        if value is None:
            return ""
        if kind is float:
            return _wan(value) if wan else f"{value:.2f}"
        if kind is bool:
            return yes if value else no
        if kind is int:
            return str(value)
        if kind is dt.date:
            return f"{value.year}/{value.month}/{value.day}" if slash else value.isoformat()
        return str(value)

    return fmt


def _xlsx_formatter(col: Column, style: SubmissionStyle) -> Callable[[Any], Any]:
    wan = col.name in style.wan_yuan
    yes, no = style.yes, style.no

    def fmt(value: Any) -> Any:
        kind = type(value)
        if kind is float:
            return round(value / 10000, 6) if wan else round(value, 2)
        if kind is bool:
            return yes if value else no
        return value

    return fmt


def write_csv(table: Table, style: SubmissionStyle, path: Path) -> None:
    cols = [table.template.column(name) for name in table.columns]
    formatters = [_csv_formatter(c, style) for c in cols]
    blank = [""] * len(cols)
    with path.open("w", encoding=style.encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header_labels(table, style))
        non_data = table.non_data
        for row in table.rows:
            if id(row) in non_data and all(v is None for v in row):
                writer.writerow(blank)
                continue
            writer.writerow([f(v) for f, v in zip(formatters, row, strict=True)])


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries carry one fixed timestamp, so that the same workbook gives the same bytes."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # noqa: D102
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_TIME)
            zinfo.compress_type = self.compression
            zinfo.external_attr = 0o600 << 16
            zinfo_or_arcname = zinfo
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # noqa: D102
        # openpyxl streams write-only sheets through temp files; copy them in without loading them whole.
        zinfo = zipfile.ZipInfo(arcname or os.path.basename(filename), date_time=_ZIP_TIME)
        zinfo.compress_type = compress_type or self.compression
        zinfo.external_attr = 0o600 << 16
        zinfo.file_size = os.path.getsize(filename)
        with open(filename, "rb") as src, self.open(zinfo, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def save_workbook(workbook: Workbook, path: Path) -> None:
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    workbook.properties.creator = "lowincome generator"
    with _FixedTimeZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).write_data()


def _merged_header(table: Table, style: SubmissionStyle, first_row: int) -> tuple[list, list, list[str]]:
    """The two header rows and the merge ranges (A1-style) for a grouped header starting at ``first_row``."""
    from openpyxl.utils import get_column_letter

    labels = header_labels(table, style)
    index = {name: i for i, name in enumerate(table.columns)}
    top: list[Any] = [None] * len(labels)
    sub: list[Any] = [None] * len(labels)
    merges: list[str] = []
    grouped: set[int] = set()
    for group, members in HEADER_GROUPS[table.template.name]:
        positions = sorted(index[m] for m in members if m in index)
        if not positions:
            continue
        # a group only merges over adjacent columns
        if positions != list(range(positions[0], positions[-1] + 1)):
            continue
        top[positions[0]] = group
        for p in positions:
            sub[p] = labels[p]
            grouped.add(p)
        merges.append(f"{get_column_letter(positions[0] + 1)}{first_row}:"
                      f"{get_column_letter(positions[-1] + 1)}{first_row}")
    for p, label in enumerate(labels):
        if p not in grouped:
            top[p] = label
            letter = get_column_letter(p + 1)
            merges.append(f"{letter}{first_row}:{letter}{first_row + 1}")
    return top, sub, merges


def write_xlsx(table: Table, style: SubmissionStyle, path: Path, layout: Layout = Layout()) -> None:
    """Stream ``table`` into a workbook (write-only mode: rows go to disk as they come)."""
    workbook = Workbook(write_only=True)
    if layout.cover_sheet:
        cover = workbook.create_sheet("填表说明")
        for line in (
            [f"{table.county_name}{table.template.zh}填表说明"],
            ["1. 本表由县扶贫办汇总填报, 数据截至当年12月31日。"],
            ["2. 金额单位为元, 保留两位小数。"],
            ["3. 数据见第二个工作表。"],
        ):
            cover.append(line)
    sheet = workbook.create_sheet(table.template.zh[:31])
    width = len(table.columns)
    if style.title_row:
        sheet.append([title_text(table)])
        sheet.merged_cells.add(f"A1:{_letter(width)}1")
    if style.unit_row:
        sheet.append([unit_text(table)])
    header_row = int(style.title_row) + int(style.unit_row) + 1
    if layout.merged_header and table.template.name in HEADER_GROUPS:
        top, sub, merges = _merged_header(table, style, header_row)
        sheet.append(top)
        sheet.append(sub)
        for ref in merges:
            sheet.merged_cells.add(ref)
    else:
        sheet.append(header_labels(table, style))
    cols = [table.template.column(name) for name in table.columns]
    formatters = [_xlsx_formatter(c, style) for c in cols]
    for row in table.rows:
        sheet.append([f(v) for f, v in zip(formatters, row, strict=True)])
    save_workbook(workbook, path)


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(max(n, 1))


def write_table(table: Table, style: SubmissionStyle, path: Path, layout: Layout = Layout()) -> Path:
    if style.fmt == "xlsx":
        write_xlsx(table, style, path, layout)
    else:
        write_csv(table, style, path)
    return path


def table_from_columns(template_name: str, county_code: str, county_name: str, year: int,
                       columns: dict[str, Sequence[Any]]) -> Table:
    """Rows in the contract's column order; a contract column the generator does not fill stays blank."""
    tpl = template(template_name)
    n = len(next(iter(columns.values()))) if columns else 0
    ordered = [columns.get(name) or [None] * n for name in tpl.column_names]
    rows = [list(r) for r in zip(*ordered, strict=True)]
    return Table(tpl, county_code, county_name, year, tpl.column_names, rows)
