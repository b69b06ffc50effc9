"""From a file's table to load-table rows: which rows are data, normalised cells, pseudonyms.

Not data (and not counted in rows_read): blank rows, a unit row right under the header, 合计/总计/小计
rows and signature footers (填表人…). The county and year of the file are counted while the rows
stream past, so a file is read once.

This is the hot loop of the whole platform (every cell of every file): the per-row normalisation is
chosen once per file, one small function per column (a text cell that is already ASCII costs an
``isascii`` and a ``strip``); columns that need more (万元 scaling, dates, ID numbers) use
:mod:`lowincome.ingest.cells`. :mod:`lowincome.speedups.row_code` writes it out as one function.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lowincome import speedups
from lowincome.ingest import cells as cell_rules
from lowincome.ingest.headers import column_units_from_row, is_unit_row
from lowincome.ingest.readers import Table

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

        return compiled_normaliser(specs, pseudonyms, hasher)
    full_width, has_full_width = cell_rules.FULL_WIDTH, cell_rules.HAS_FULL_WIDTH.search
    text_of, plain = cell_rules.text_of, cell_rules.plain_number

    def text(value):
        if value.__class__ is str:
            if not value.isascii() and has_full_width(value):
                value = value.translate(full_width)
            return value.strip() or None
        return text_of(value)

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
                specs.append((position, "call", cell_rules.normaliser(col, scale)))
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
