"""Recognising a file: which template, county and year it is, from its header and its name.

The header (``templates.yaml`` only). Counties type headers by hand: full-width brackets, spaces, line
breaks inside a cell, a unit in brackets (``家庭纯收入(元)``, ``村集体经营性收入（万元）``), the Chinese or
the English name or an alias. Every label is *folded* (NFKC, lower case, no spaces/underscores/dashes)
before it is looked up, so the contract lists each accepted header once. A title row may sit above the
header, a unit row above or below it, and a grouped (merged) header spreads over two rows: the two rows
are combined column by column.

The name. The content decides what a file is; the name is a hint (:func:`hint_from_name`), used to
group files per county before they are read, and checked against the content afterwards (a name that
says another year or county is a :func:`contradiction` the county must resolve). The county's own
rows decide its county and year (:class:`lowincome.ingest.normalise.RowTally`); :func:`verdict` says
whether what was recognised makes a file that can be loaded.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lowincome.ingest.files import safe_county_dir
from lowincome.ingest.reasons import FileRejected
from lowincome.templates import Template, templates

# How many rows from the top may hold titles, notes and the header.
HEADER_SCAN_ROWS = 30
# A template's columns number 3 to 17; a header wider than this is not a county file.
MAX_COLUMNS = 200
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"})
_DROP = re.compile(r"[\s_\-·•:：*＊\"'“”‘’]+")
_UNIT_SUFFIX = re.compile(r"^(?P<base>.+?)\((?P<unit>[^()]*)\)$")
_BARE_UNIT = re.compile(r"^(?P<base>.+?)(?P<unit>亿元|万元|千元|元)$")
UNIT_SCALES = (("亿元", Decimal(100_000_000)), ("万元", Decimal(10_000)), ("千元", Decimal(1_000)))
_UNIT_ROW = re.compile(r"^(单位|计量单位)[:：]?")
_UNIT_CELL = re.compile(r"^[(（]?(亿元|万元|千元|元|人|户|个|%|公里|平方米|m2|㎡|亩|年|是/否)[)）]?$")


def fold(label: Any) -> str:
    """The comparable form of a header cell: NFKC (full-width -> half-width), brackets unified,
    lower case, without spaces, underscores, dashes or quotes."""
    if label is None:
        return ""
    text = label if isinstance(label, str) else str(label)
    text = unicodedata.normalize("NFKC", text).translate(_BRACKETS).lower()
    return _DROP.sub("", text)


def unit_scale(unit: str) -> Decimal | None:
    """×10000 for 万元 (and the rarer 千元/亿元); None for yuan or a unit that is not money."""
    for word, scale in UNIT_SCALES:
        if word in unit:
            return scale
    return None


@dataclass(frozen=True)
class HeaderCell:
    column: str            # canonical name
    unit: str = ""         # the unit written in the header, if any


@cache
def label_index() -> dict[str, tuple[tuple[str, str], ...]]:
    """folded label -> ((template, column), ...) for every template; built from templates.yaml once."""
    index: dict[str, list[tuple[str, str]]] = {}
    for tpl in templates().values():
        for col in tpl.columns:
            for label in (col.zh, col.name, *col.aliases):
                key = fold(label)
                entry = (tpl.name, col.name)
                if entry not in index.setdefault(key, []):
                    index[key].append(entry)
    return {k: tuple(v) for k, v in index.items()}


def match_label(label: Any) -> tuple[dict[str, str], str]:
    """{template: column} a header cell can stand for, and the unit it carries (``""`` when none)."""
    key = fold(label)
    if not key:
        return {}, ""
    index = label_index()
    hits = index.get(key)
    unit = ""
    if hits is None:
        for pattern in (_UNIT_SUFFIX, _BARE_UNIT):
            found = pattern.match(key)
            if found and found.group("base") in index:
                hits, unit = index[found.group("base")], found.group("unit")
                break
    return ({t: c for t, c in hits} if hits else {}), unit


@dataclass
class HeaderMatch:
    """Where the header is, which template it is, and which file column holds which canonical column."""

    template: Template
    header_rows: tuple[int, ...]            # positions (0-based, within the scanned rows) of the header
    columns: dict[str, int]                 # canonical column -> position in the file row
    units: dict[str, str]                   # canonical column -> unit written in its header
    unknown: list[str] = field(default_factory=list)      # header labels that match nothing (ignored)
    repeated: list[str] = field(default_factory=list)     # a canonical column named twice (first kept)
    default_unit: str = ""                  # from a 单位:万元 row: applies to money columns without a unit

    @property
    def data_start(self) -> int:
        return max(self.header_rows) + 1

    def scale(self, column: str) -> Decimal | None:
        col = self.template.column(column)
        if col.type != "money":
            return None
        unit = self.units.get(column) or self.default_unit
        return unit_scale(unit) if unit else None

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.template.columns if c.required and c.name not in self.columns]


def _row_hits(row: Sequence[Any]) -> list[tuple[dict[str, str], str]]:
    return [match_label(v) for v in row]


def _score(hits: list[tuple[dict[str, str], str]]) -> dict[str, int]:
    """Distinct columns of each template that the row names."""
    seen: dict[str, set[str]] = {}
    for found, _unit in hits:
        for tpl, col in found.items():
            seen.setdefault(tpl, set()).add(col)
    return {tpl: len(cols) for tpl, cols in seen.items()}


def _combine(upper: list, lower: list) -> list:
    """Two header rows of a merged (grouped) header: per column, the lower label when it names a column."""
    width = max(len(upper), len(lower))
    upper = upper + [({}, "")] * (width - len(upper))
    lower = lower + [({}, "")] * (width - len(lower))
    return [lo if lo[0] else up for up, lo in zip(upper, lower, strict=True)]


def _enough(tpl: Template, matched: int) -> bool:
    """A header must name at least half of a template's columns (and two at the least)."""
    return matched >= max(2, (len(tpl.columns) + 1) // 2)


def find_header(rows: Sequence[Sequence[Any]]) -> HeaderMatch | None:
    """The header among the first rows of a sheet, or None when no row looks like a template's header."""
    tpls = templates()
    scored = []
    all_hits = [_row_hits(row) for row in rows]
    for position, hits in enumerate(all_hits):
        candidates = [(hits, (position,))]
        if position + 1 < len(all_hits):
            candidates.append((_combine(hits, all_hits[position + 1]), (position, position + 1)))
        for combined, used in candidates:
            for tpl_name, matched in _score(combined).items():
                tpl = tpls[tpl_name]
                if _enough(tpl, matched):
                    # most columns named, then the larger share of the template, then one row, then earliest
                    scored.append(((matched, matched / len(tpl.columns), -len(used), -position),
                                   tpl, combined, used))
    if not scored:
        return None
    _key, tpl, combined, used = max(scored, key=lambda s: s[0])
    match = HeaderMatch(template=tpl, header_rows=used, columns={}, units={})
    for position, (found, unit) in enumerate(combined):
        column = found.get(tpl.name)
        label = _label_at(rows, used, position)
        if column is None:
            if label:
                match.unknown.append(label)
        elif column in match.columns:
            match.repeated.append(label)
        else:
            match.columns[column] = position
            if unit:
                match.units[column] = unit
    match.default_unit = _default_unit(rows, used)
    return match


def _label_at(rows: Sequence[Sequence[Any]], used: tuple[int, ...], position: int) -> str:
    for r in reversed(used):
        row = rows[r]
        if position < len(row) and row[position] not in (None, ""):
            return str(row[position]).strip()
    return ""


def _default_unit(rows: Sequence[Sequence[Any]], used: tuple[int, ...]) -> str:
    """``单位:万元`` in a row just above or below the header sets the unit of every money column."""
    for r in (min(used) - 1, max(used) + 1, min(used) - 2):
        if 0 <= r < len(rows):
            text = " ".join(fold(v) for v in rows[r] if v not in (None, ""))
            if _UNIT_ROW.match(text):
                return text
    return ""


def is_unit_row(row: Sequence[Any]) -> bool:
    """A row under the header that only states units (``单位:元``, or ``元``/``万元`` per column)."""
    cells = [fold(v) for v in row if v not in (None, "")]
    if not cells:
        return False
    if _UNIT_ROW.match(cells[0]):
        return True
    return all(_UNIT_CELL.match(c) for c in cells)


def column_units_from_row(row: Sequence[Any], match: HeaderMatch) -> None:
    """A per-column unit row (``万元`` under one header) sets that column's unit."""
    for column, position in match.columns.items():
        if position < len(row) and row[position] not in (None, "") and column not in match.units:
            cell = fold(row[position]).strip("()")
            if unit_scale(cell) is not None or cell == "元":
                match.units[column] = cell


COUNTIES_FILE = Path(__file__).resolve().parents[2] / "config" / "counties.csv"
PROVINCE_CODE = "330000"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(20[1-3]\d)(?!\d)")


@cache
def counties() -> dict[str, str]:
    """county_code -> county_name of every county in scope (``include/config/counties.csv``)."""
    with COUNTIES_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["county_code"].strip(): row["county_name"].strip() for row in csv.DictReader(handle)}


def in_scope(county_code: str | None, template: str) -> bool:
    """A county of counties.csv; the province code only for the template that carries it."""
    if county_code is None:
        return False
    fixed = templates()[template].fixed_county_code
    if fixed is not None:
        return county_code == fixed
    return county_code in counties()


def sender_county(file_name: str, county_code: str | None) -> str | None:
    """The county that sent a file, whose feedback folder gets the answer: the county its name names
    (a county in scope, or the province), else the county of its content. A file named for 衢江区 that
    holds 柯城区's rows came from 衢江区: its rejection is news for 衢江区, and 柯城区 learns nothing of it."""
    named = hint_from_name(file_name).county_code
    if named is not None and (named in counties() or named == PROVINCE_CODE):
        return named
    return county_code


@dataclass(frozen=True)
class NameHint:
    named_code: str | None = None     # a 6-digit code written in the name
    county_name: str | None = None    # the full county name found in the name (衢江区)
    year: int | None = None
    template: str | None = None

    @property
    def county_code(self) -> str | None:
        """The county the name points at (its code, else the code of the county it names)."""
        if self.named_code:
            return self.named_code
        if self.county_name:
            return next((c for c, n in counties().items() if n == self.county_name), None)
        if self.template and templates()[self.template].fixed_county_code:
            return templates()[self.template].fixed_county_code
        return None

    @property
    def group(self) -> str:
        return safe_county_dir(self.county_code)


def hint_from_name(name: str) -> NameHint:
    stem = unicodedata.normalize("NFKC", name).rsplit(".", 1)[0]
    codes = _CODE.findall(stem)
    years = [int(y) for y in _YEAR.findall(re.sub(r"\d{6,}", " ", stem)) if 2012 <= int(y) <= 2030]
    tpl = _template_in(stem)
    county_name = next((full for full in sorted(counties().values(), key=len, reverse=True) if full in stem), None)
    return NameHint(named_code=codes[0] if codes else None, county_name=county_name,
                    year=years[0] if years else None, template=tpl)


def _template_in(stem: str) -> str | None:
    lowered = stem.lower()
    found = [(len(t.name), t.name) for t in templates().values() if t.name in lowered]
    found += [(len(t.zh), t.name) for t in templates().values() if t.zh in stem]
    return max(found)[1] if found else None


def contradiction(hint: NameHint, *, template: str, county_code: str, year: int) -> tuple[str, dict] | None:
    """What in the name contradicts the content: (reason code, params), or None."""
    if hint.year is not None and hint.year != year:
        return "year_mismatch", {"name_year": hint.year, "content_year": year}
    if hint.template is not None and hint.template != template:
        named, found = templates()[hint.template].zh, templates()[template].zh
        return "name_contradicts_content", {"detail": f"文件名是“{named}”，内容是“{found}”"}
    if hint.county_name is not None and counties().get(county_code) not in (None, hint.county_name):
        return "name_contradicts_content", {
            "detail": f"文件名中的县是{hint.county_name}，内容中的县代码是{county_code}（{counties()[county_code]}）"}
    if hint.named_code is not None and hint.named_code != county_code:
        return "name_contradicts_content", {
            "detail": f"文件名中的县代码是{hint.named_code}，内容中的县代码是{county_code}"}
    return None


def verdict(match: HeaderMatch, rows_read: int, county_code: str | None, year: int | None,
            hint: NameHint) -> FileRejected | None:
    """Why a file whose header matched and whose rows were read is refused as a whole, or None: a
    required column missing, no data rows, no county or year in its rows, a county out of scope, or a
    name that contradicts the content."""
    tpl = match.template
    if match.missing:
        return FileRejected("missing_column", column_zh="”、“".join(tpl.column(c).zh for c in match.missing))
    if rows_read == 0:
        return FileRejected("no_rows")
    if county_code is None:
        return FileRejected("no_county")
    if year is None:
        return FileRejected("no_year")
    if not in_scope(county_code, tpl.name):
        return FileRejected("county_out_of_scope", county_code=county_code)
    found = contradiction(hint, template=tpl.name, county_code=county_code, year=year)
    return None if found is None else FileRejected(found[0], **found[1])
