"""From a file's table to load-table rows: which rows are data, normalised cells, pseudonyms.

Not data (and not counted in rows_read): blank rows, a unit row right under the header, 合计/总计/小计
rows and signature footers (填表人…). The county and year of the file are counted while the rows
stream past, so a file is read once.

This is the hot loop of the whole platform (every cell of every file), so rows are normalised a chunk
at a time, column by column (:func:`compile_normaliser`): a column of text cells is checked once (is any
of it full-width, has it a thousands separator at all) and trimmed with one ``map``; columns that need
more (万元 scaling, dates, ID numbers) use the cell rules below, one call per cell.

One cell.

What is done: trim; full-width -> half-width; Excel numbers without a spurious ``.0``; amounts from a
万元 header ×10000 as exact decimal text; thousands separators dropped from numbers; dates as ISO
``YYYY-MM-DD`` when recognisable; a lower-case ``x`` ending an ID number upper-cased; blank -> NULL.
What is NOT done: judging values. ``3.30802E+17`` stays that text so that validation rejects it, and an
18-digit ID stored by Excel as a number is not rendered as an integer (its last digits are gone:
a double holds 15-16 significant digits), so it is rejected too instead of loading a wrong number.

Each column's rule is chosen once per file, because this runs for every cell of millions of rows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice, repeat, takewhile
from operator import itemgetter
from typing import Any

from lowincome.ingest.read import Table
from lowincome.ingest.recognise import column_units_from_row, is_unit_row
from lowincome.pseudonym import pseudonyms_of
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
# In a chunk's first cells joined by line breaks: a first cell that is blank or starts with one of those
# characters or a space (a line break inside a cell only makes a false alarm: the rows are looked at one by one).
_MAYBE_NOT_DATA = re.compile("\n(?:[" + "".join(sorted(_NOT_DATA_FIRST)) + " \u3000\n]|$)")
# Rows normalised together (at most; a stream's first chunks are smaller): enough that the per-column
# work is C, few enough that a chunk's cells stay in the processor's cache while each column is read.
CHUNK_ROWS = 256
_TEXT_OR_BLANK = frozenset((str, type(None)))
_FLOAT = frozenset((float,))
_first = itemgetter(0)
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


def _text_column(cells: Sequence[Any], number: bool) -> list[str | None]:
    """:func:`text_of` of every cell of a column (``number``: then thousands separators dropped).

    The column is looked at once: when every cell is text (or blank), the full-width check and the
    separator check run on the column's joined text, and the trim on every cell is one ``map``.
    """
    try:
        joined = "".join(cells)
    except TypeError:   # not all text: spreadsheet numbers, dates, blank cells
        kinds = set(map(type, cells))
        if not kinds <= _TEXT_OR_BLANK:
            if kinds == _FLOAT and all(map(float.is_integer, cells)) \
                    and -_EXACT_INT < min(cells) and max(cells) < _EXACT_INT:
                return list(map(str, map(int, cells)))   # whole numbers (Excel's integers): number_text's first case
            values = list(map(text_of, cells))
            if number and "," in "".join(filter(None, values)):
                values = [None if v is None else plain_number(v) if "," in v else v for v in values]
            return values
        cells = [c or "" for c in cells]   # a blank cell is "" now: both become None below
        joined = "".join(cells)
    if not joined.isascii() and HAS_FULL_WIDTH.search(joined):
        # translate() leaves every other character as it is, so it can run on every cell
        cells = list(map(str.translate, cells, repeat(FULL_WIDTH)))
        joined = "".join(cells)   # a full-width comma is a comma now
    values = list(map(str.strip, cells))
    if not all(values):
        values = [v or None for v in values]
    if number and "," in joined:
        values = [None if v is None else plain_number(v) if "," in v else v for v in values]
    return values


def _text(cells: Sequence[Any]) -> list[str | None]:
    return _text_column(cells, False)


def _number(cells: Sequence[Any]) -> list[str | None]:
    return _text_column(cells, True)


def _id_number(cells: Sequence[Any]) -> list[str | None]:
    """An ID number column: text, a lower-case ``x`` at the end upper-cased (as the cell rule ``id_number``)."""
    values = _text_column(cells, False)
    if "x" in "".join(filter(None, values)):
        values = [v[:-1] + "X" if v is not None and v[-1:] == "x" else v for v in values]
    return values


def _calls(func: Normaliser) -> Callable[[Sequence[Any]], list[str | None]]:
    def column(cells: Sequence[Any]) -> list[str | None]:
        return list(map(func, cells))
    return column


_COLUMN_RULES = {"text": _text, "number": _number, "id": _id_number}
Normalised = tuple[list[tuple], list[list[str | None]], list[bool] | None]


def compile_normaliser(specs: list[tuple[int, str, Callable | None]],
                       pseudonyms: Sequence[Sequence[int]] = (), hasher: Callable[..., str | None] | None = None
                       ) -> Callable[[list[list], list[int]], Normalised]:
    """One function ``(rows of cells, their row numbers) -> (load-table rows, columns, filled)`` for a file.

    ``specs``: (position in the file row, kind, function) with kind ``text`` (trim, half-width),
    ``number`` (text, then thousands separators dropped), ``id`` (text, a final ``x`` upper-cased) or
    ``call`` (the function does it all, cell by cell).
    ``pseudonyms``: for each pseudonym column, the indexes (into ``specs``) of the values the hasher
    hashes (a blank part makes no pseudonym: the hasher returns None). A load-table row is
    ``(row number, *values, *pseudonyms)``; ``columns`` the same values column by column. ``filled``:
    for each row whether any of its values is not blank (a blank row is not data), None when every row has one.

    The rows are normalised column by column (a chunk of up to a few hundred rows at a time, see
    :class:`RowStream`), so that the work per cell is mostly C: the columns are taken out of the rows at
    once (``zip``), a column's cells are checked together and mapped, and the rows put back with ``zip``.
    No code is generated: this replaced a row function written out as source and compiled (issue 26).
    """
    rules = [_calls(func) if kind == "call" else _COLUMN_RULES[kind] for _position, kind, func in specs]
    positions = [position for position, _kind, _func in specs]
    take = itemgetter(*positions) if specs else None
    single = len(specs) == 1
    width = max(positions, default=-1) + 1
    keys = [list(parts) for parts in pseudonyms]

    def normalise(cells: list[list], numbers: list[int]) -> Normalised:
        if take is None:
            return [(n,) for n in numbers], [], [False] * len(numbers)
        raw = None
        if single:
            raw = [list(map(take, cells))]
        elif len(cells[0]) <= 2 * len(positions):   # most of the row is wanted: all its columns at once
            table = list(zip(*cells, strict=False))   # as many columns as the shortest row has
            if len(table) >= width:
                raw = [table[p] for p in positions]
        if raw is None:
            raw = zip(*map(take, cells), strict=True)
        values = [rule(column) for rule, column in zip(rules, raw, strict=True)]
        filled = None
        if not any(map(all, values)):   # no column has a value in every row: some rows may be blank
            filled = list(map(any, zip(*values, strict=True)))
            if all(filled):
                filled = None
        for parts in keys:
            values.append(pseudonyms_of(hasher, [values[i] for i in parts], len(numbers)))
        return list(zip(numbers, *values, strict=True)), values, filled

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
            if scale is not None or col.type == "date":
                specs.append((position, "call", normaliser(col, scale)))
            elif col.check == "gb11643":
                specs.append((position, "id", None))
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
        """The load-table rows of ``source``, a chunk of rows at a time (see :func:`compile_normaliser`).

        ``below_header``: no row but blank ones came before, so the first row that is not blank may be a
        unit row, which changes the columns' scales (and so the normalisation) for the rows after it.
        """
        tally = self.tally
        normalise = self._normaliser()
        width = self.width
        county, year = self._county, self._year
        if until is not None:
            # stops at (and takes) the first row at or after ``until``, as a loop with a break would
            source = takewhile(lambda row: row[0] < until, source)
        size = 1   # the first row comes out as soon as it is read (a second parser starts then), the chunks grow
        while chunk := list(islice(source, size)):
            size = min(2 * size, CHUNK_ROWS)
            numbers, cells = zip(*chunk, strict=True)
            if min(map(len, cells)) < width:
                cells = [c if len(c) >= width else [*c, *[None] * (width - len(c))] for c in cells]
            rows, columns, filled = normalise(cells, numbers)
            if below_header:
                start = 0 if filled is None else next((i for i, f in enumerate(filled) if f), None)
                if start is None:
                    tally.blank += len(rows)
                    continue
                below_header = False
                if is_unit_row(cells[start]):
                    column_units_from_row(cells[start], self.table.match)
                    normalise = self._normaliser()
                    tally.unit_rows += 1
                    tally.blank += start
                    numbers, cells = numbers[start + 1:], cells[start + 1:]
                    if not cells:
                        continue
                    rows, columns, filled = normalise(cells, numbers)
            data = self._data(rows, cells, filled)
            tally.rows_read += len(data)
            if data is rows:   # every row is data: the tallies count whole columns
                if county is not None:
                    _count(tally.counties, columns[county])
                if year is not None:
                    _count(tally.years, columns[year])
            elif data:
                if county is not None:
                    _count(tally.counties, list(map(itemgetter(county + 1), data)))
                if year is not None:
                    _count(tally.years, list(map(itemgetter(year + 1), data)))
            yield from data

    def _data(self, rows: list[tuple], cells: list[list], filled: list[bool] | None) -> list[tuple]:
        """The rows that are data: not blank, not a total or footer row (counted in the tally)."""
        firsts = list(map(_first, cells))
        # a row whose first cell is blank, or text that starts like a total or footer, is looked at
        try:
            heads = "\n".join(firsts)
        except TypeError:   # not all text (a number's or a date's text never starts like that)
            heads = "" if None in firsts else "\n".join(map(str, firsts))
        maybe_not_data = not heads or _MAYBE_NOT_DATA.search("\n" + heads) is not None
        if filled is None and not maybe_not_data:
            return rows
        tally = self.tally
        data = []
        not_data_first = _NOT_DATA_FIRST
        for row, c, full in zip(rows, cells, filled or [True] * len(rows), strict=True):
            if not full:
                tally.blank += 1
                continue
            first = c[0]
            if (first is None or (first.__class__ is str and (not first or first[:1] in not_data_first
                                                              or first[:1] in " \u3000"))) \
                    and _is_not_data(c):
                tally.not_data += 1
                continue
            data.append(row)
        return data


def _count(counter: Counter, values: list) -> None:
    """Count the values as one at a time would: a value new to a counter of MAX_TALLY values is not counted."""
    if not values:
        return
    if values.count(values[0]) == len(values):   # one value (a file's county and year)
        if values[0] in counter or len(counter) < MAX_TALLY:
            counter[values[0]] += len(values)
        return
    seen = Counter(values)
    if len(counter) + len(seen.keys() - counter.keys()) <= MAX_TALLY:
        counter.update(seen)   # new values in the order they first came, as one at a time
        return
    for value in values:
        if value in counter or len(counter) < MAX_TALLY:
            counter[value] += 1
