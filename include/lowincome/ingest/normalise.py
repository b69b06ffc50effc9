"""From a file's table to load-table rows: which rows are data, normalised cells, pseudonyms.

Not data (and not counted in rows_read): blank rows, a unit row right under the header, 合计/总计/小计
rows and signature footers (填表人…). The county and year of the file are counted while the rows
stream past, so a file is read once.

This is the hot loop of the whole platform (every cell of every file): the per-row normalisation is
chosen once per file, one small function per column (a text cell that is already ASCII costs an
``isascii`` and a ``strip``); columns that need more (万元 scaling, dates, ID numbers) use
the cell rules below. :mod:`lowincome.speedups.row_code` writes it out as one function.

One cell.

What is done: trim; full-width -> half-width; Excel numbers without a spurious ``.0``; amounts from a
万元 header ×10000 as exact decimal text; thousands separators dropped from numbers; dates as ISO
``YYYY-MM-DD`` when recognisable; a lower-case ``x`` ending an ID number upper-cased; blank -> NULL.
What is NOT done: judging values. ``3.30802E+17`` stays that text so that validation rejects it, and an
18-digit ID stored by Excel as a number is not rendered as an integer (its last digits are gone:
a double holds 15-16 significant digits), so it is rejected too instead of loading a wrong number.

Each column gets one small function, chosen once per file, because this runs for every cell of
millions of rows: the common case (ASCII text) costs a ``strip``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lowincome import speedups
from lowincome.ingest.read import Table
from lowincome.ingest.recognise import column_units_from_row, is_unit_row
from lowincome.templates import Column

# Full-width ASCII (U+FF01-U+FF5E) and the ideographic space -> their half-width forms.
FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# translate() looks every character up in a dict; a regex scan finds the rare cell that needs it first
HAS_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(:\d{2})?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Excel serial dates a plan-period file can hold (1954-2119): outside this a number stays a number.
_SERIAL_DATES = (20_000, 80_000)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Doubles represent every integer below 2**53 exactly; above, the digits were already lost.
_EXACT_INT = 2**53
_isfinite = math.isfinite
Normaliser = Callable[[Any], str | None]


def text_of(value: Any) -> str | None:
    """A cell as trimmed half-width text (None when blank), whatever its spreadsheet type."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        if not value.isascii() and HAS_FULL_WIDTH.search(value):
            value = value.translate(FULL_WIDTH)
        value = value.strip()
        return value or None
    if kind is float:
        return number_text(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is dt.datetime:
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if kind is dt.date:
        return value.isoformat()
    return str(value).strip() or None


def number_text(value: float) -> str:
    """An Excel number as the county sees it: integers without ``.0``, 15 significant digits."""
    if not _isfinite(value):   # nan, inf (the tuple of float("inf") it replaces was built per call)
        return str(value)
    if value.is_integer() and -_EXACT_INT < value < _EXACT_INT:
        return str(int(value))
    return f"{value:.15G}"


def _scaled(text: str, scale: Decimal) -> str:
    try:
        scaled = Decimal(text) * scale
    except InvalidOperation:
        return text
    out = format(scaled, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out


def plain_number(text: str) -> str:
    if "," in text and _THOUSANDS.match(text):
        return text.replace(",", "")
    return text


def iso_date(text: str) -> str:
    """``2014/3/15``, ``2014.3.15``, ``2014年3月15日``, ``20140315`` -> ``2014-03-15``; else unchanged."""
    found = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not found:
        return text
    try:
        return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3))).isoformat()
    except ValueError:
        return text


def normaliser(col: Column, scale: Decimal | None = None) -> Normaliser:
    """The function that turns a raw cell of this column into load-table text."""
    if col.type in ("money", "number", "int", "year"):
        if scale is not None:
            def money(value: Any) -> str | None:
                text = text_of(value)
                if text is None:
                    return None
                text = plain_number(text)
                return _scaled(text, scale) if _DECIMAL.match(text) else text
            return money

        def number(value: Any) -> str | None:
            text = text_of(value)
            if text is None or "," not in text:
                return text
            return plain_number(text)
        return number
    if col.type == "date":
        def date(value: Any) -> str | None:
            if type(value) is float and _SERIAL_DATES[0] <= value <= _SERIAL_DATES[1]:
                return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
            text = text_of(value)
            return None if text is None else iso_date(text)
        return date
    if col.check == "gb11643":
        def id_number(value: Any) -> str | None:
            text = text_of(value)
            if text is not None and text[-1:] == "x":
                return text[:-1] + "X"
            return text
        return id_number
    return text_of


NOT_DATA = re.compile(r"^(全县|全市|全省|本页|本表|总)?(合计|总计|小计)|^(填表人|制表人|填报人|审核人|负责人|单位负责人|"
                      r"统计负责人|填报单位|填报日期|制表日期|联系电话|注[:：])")
_NOT_DATA_FIRST = frozenset("全本总合小填制审负单统联注")
# County/year tallies: a file names one county and year; a few stray values are fine, a million are not.
MAX_TALLY = 100


@dataclass
class RowTally:
    rows_read: int = 0
    blank: int = 0
    not_data: int = 0
    unit_rows: int = 0
    counties: Counter = field(default_factory=Counter)
    years: Counter = field(default_factory=Counter)

    def most_common_county(self) -> str | None:
        return next((value for value, _count in self.counties.most_common() if value is not None), None)

    def most_common_year(self) -> int | None:
        for value, _count in self.years.most_common():
            if value is not None and len(value) == 4 and value.isdigit() and 2000 <= int(value) <= 2099:
                return int(value)
        return None


def _is_not_data(cells: list) -> bool:
    """A total or footer row: its first non-blank cell says 合计 / 填表人 …"""
    first = next((c for c in cells if c is not None and c != ""), None)
    if type(first) is not str:
        return False
    text = first.replace(" ", "").replace("\u3000", "").strip()
    return text[:1] in _NOT_DATA_FIRST and NOT_DATA.match(text) is not None


def compile_normaliser(specs: list[tuple[int, str, Callable | None]],
                       pseudonyms: list[list[int]] = (), hasher: Callable[..., str | None] | None = None
                       ) -> Callable[[list, int], tuple | None]:
    """One function ``(cells, row number) -> load-table row`` for a file's columns, None for a blank row.

    ``specs``: (position in the file row, kind, function) with kind ``text`` (trim, half-width),
    ``number`` (text, then thousands separators dropped) or ``call`` (the function does it all).
    ``pseudonyms``: for each pseudonym column, the indexes (into ``specs``) of the values the hasher
    hashes (a blank part makes no pseudonym: the hasher returns None). The row is
    ``(row number, *values, *pseudonyms)``. With the speed-ups on, :mod:`lowincome.speedups.row_code`
    writes the same function out as source, the common cases inline.
    """
    if speedups.enabled():
        from lowincome.speedups.row_code import compiled_normaliser

        return compiled_normaliser(specs, pseudonyms, hasher,
                                   cell_rules=(FULL_WIDTH, HAS_FULL_WIDTH.search, text_of, plain_number))
    full_width, has_full_width = FULL_WIDTH, HAS_FULL_WIDTH.search
    cell_text, plain = text_of, plain_number

    def text(value):
        if value.__class__ is str:
            if not value.isascii() and has_full_width(value):
                value = value.translate(full_width)
            return value.strip() or None
        return cell_text(value)

    def number(value):
        value = text(value)
        return plain(value) if value is not None and "," in value else value

    cells = tuple((position, func if kind == "call" else number if kind == "number" else text)
                  for position, kind, func in specs)
    keys = tuple(tuple(parts) for parts in pseudonyms)

    def normalise(c: list, n: int) -> tuple | None:
        values = [func(c[position]) for position, func in cells]
        if not any(values):
            return None
        for parts in keys:
            values.append(hasher(*[values[i] for i in parts]))
        return (n, *values)

    return normalise


class RowStream:
    """Load-table rows of one table: ``(_source_row, *columns, *pseudonyms)``, streamed."""

    def __init__(self, table: Table, hasher: Callable[..., str | None]):
        self.table = table
        match = table.match
        tpl = match.template
        self.template = tpl
        self.columns = [name for name in tpl.column_names if name in match.columns]
        self.positions = [match.columns[name] for name in self.columns]
        self.width = max(self.positions, default=-1) + 1
        self.pseudonyms: list[tuple[str, list[int]]] = []
        for key, parts in tpl.pseudonyms.items():
            if all(p in self.columns for p in parts):
                self.pseudonyms.append((key, [self.columns.index(p) for p in parts]))
        self.hasher = hasher
        self.tally = RowTally()
        self._county = self.columns.index("county_code") if "county_code" in self.columns else None
        self._year = self.columns.index("year") if "year" in self.columns else None

    @property
    def load_columns(self) -> list[str]:
        return self.columns + [key for key, _ in self.pseudonyms]

    def _normaliser(self) -> Callable[[list, int], tuple | None]:
        match = self.table.match
        specs = []
        for name, position in zip(self.columns, self.positions, strict=True):
            col = self.template.column(name)
            scale = match.scale(name)
            if scale is not None or col.type == "date" or col.check == "gb11643":
                specs.append((position, "call", normaliser(col, scale)))
            elif col.type in ("money", "number", "int", "year"):
                specs.append((position, "number", None))
            else:
                specs.append((position, "text", None))
        return compile_normaliser(specs, [idx for _key, idx in self.pseudonyms], self.hasher)

    def rows(self, until: int | None = None) -> Iterator[tuple]:
        """The table's load-table rows; with ``until``, only those of source rows before that row."""
        return self._rows(self.table.data_rows(), until, below_header=True)

    def rows_of(self, source: Iterator[tuple[int, list]], below_header: bool = False) -> Iterator[tuple]:
        """The load-table rows of a later part of the table (a second reader's rows, numbered as in the
        file). ``below_header``: no row but blank ones came before it, so a unit row may still come."""
        return self._rows(source, None, below_header=below_header)

    def _rows(self, source: Iterator[tuple[int, list]], until: int | None, below_header: bool) -> Iterator[tuple]:
        tally = self.tally
        normalise = self._normaliser()
        width = self.width
        # positions in the yielded row, which starts with the row number
        county_at = None if self._county is None else self._county + 1
        year_at = None if self._year is None else self._year + 1
        counties, years = tally.counties, tally.years
        not_data_first = _NOT_DATA_FIRST
        # below_header: a unit row may sit right under the header
        for number, cells in source:
            if until is not None and number >= until:
                break
            if len(cells) < width:
                cells = list(cells) + [None] * (width - len(cells))
            row = normalise(cells, number)
            if row is None:
                tally.blank += 1
                continue
            if below_header:
                below_header = False
                if is_unit_row(cells):
                    column_units_from_row(cells, self.table.match)
                    normalise = self._normaliser()
                    tally.unit_rows += 1
                    continue
            first = cells[0]
            if (first is None or (first.__class__ is str and (not first or first[:1] in not_data_first
                                                              or first[:1] in " \u3000"))) \
                    and _is_not_data(cells):
                tally.not_data += 1
                continue
            tally.rows_read += 1
            if county_at is not None:
                value = row[county_at]
                if value in counties or len(counties) < MAX_TALLY:
                    counties[value] += 1
            if year_at is not None:
                value = row[year_at]
                if value in years or len(years) < MAX_TALLY:
                    years[value] += 1
            yield row
