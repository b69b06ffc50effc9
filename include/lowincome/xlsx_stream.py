"""A streaming reader for large XLSX sheets: memory that does not grow with the number of rows.

python-calamine is the fast reader, but it holds a whole sheet in native cells (measured here: ~1.1 KB
per row of a 14-column register, so ~1.3 GB for 1,048,576 rows) before ``iter_rows`` hands out the
first row. Above :data:`lowincome.ingest.read.STREAM_ABOVE` bytes of sheet XML the readers switch to
this one: the sheet's XML is inflated chunk by chunk and cut into rows and cells by regular expressions
(the OOXML a spreadsheet program writes is regular), so only one chunk of XML and one row are in memory.
Shared strings (Excel puts every text there) are kept as one packed string plus offsets, not one Python
object each. Cells come out typed like calamine's (str, float, bool, datetime), so the rest of the
ingestion cannot tell the two readers apart (tests run the same files through both).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
import zipfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_CHUNK = 1 << 22
# A row's body runs to the first </row>; written as runs of [^<] with possessive quantifiers, not a lazy
# ".*?", which tries the end tag at every character (measured: benchmarks/RESULTS.md, history, run P).
_ROW = re.compile(r"<row\b([^>]*?)(?:/>|>([^<]*+(?:<(?!/row>)[^<]*+)*+)</row>)")
_ROW_NUMBER = re.compile(r'\br="(\d+)"')
_ROW_NUMBER_BYTES = re.compile(rb'<row r="(\d+)"')
# The attribute order every writer we know uses (r, s, t) and the plain cell bodies (a value, or one
# inline text run); a row with any other cell takes the general path.
_CELL_FAST = re.compile(r'<c r="([A-Z]{1,3})\d+"(?: s="(\d+)")?(?: t="(\w+)")?\s*(?:/>|>(?:<f\b[^>]*?(?:/>|>[^<]*</f>))?'
                        r'(?:<v>([^<]*)</v>|<is><t(?:\s[^>]*)?>([^<]*)</t></is>)?</c>)')
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR = re.compile(r'\b(r|s|t)="([^"]*)"')
_V = re.compile(r"<v>([^<]*)</v>")
_T = re.compile(r"<t(?:\s[^>]*)?>([^<]*)</t>")
_T_BYTES = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")
_PHONETIC = re.compile(r"<rPh\b.*?</rPh>", re.S)
_PHONETIC_BYTES = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_LETTERS = re.compile(r"[A-Z]+")
# built-in number formats that show a date or time
_DATE_FORMATS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def _text(raw: str | bytes) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def _inline(raw: str | bytes) -> str:
    """The text of an ``<is>``/``<si>`` element: its runs joined, phonetic guides left out."""
    if isinstance(raw, bytes):
        if b"<rPh" in raw:
            raw = _PHONETIC_BYTES.sub(b"", raw)
        return _text(b"".join(_T_BYTES.findall(raw)))
    if "<rPh" in raw:
        raw = _PHONETIC.sub("", raw)
    return _text("".join(_T.findall(raw)))


class SharedStrings:
    """The workbook's shared strings, packed: one string and an offset array instead of N objects."""

    def __init__(self, archive: zipfile.ZipFile, member: str | None):
        self._offsets = array("q", [0])
        parts: list[str] = []
        size = 0
        if member:
            for raw in _elements(archive, member, b"<si>", b"</si>"):
                text = _inline(raw)
                parts.append(text)
                size += len(text)
                self._offsets.append(size)
        self._packed = "".join(parts)

    def __getitem__(self, index: int) -> str:
        return self._packed[self._offsets[index]:self._offsets[index + 1]]

    def __len__(self) -> int:
        return len(self._offsets) - 1


def _elements(archive: zipfile.ZipFile, member: str, start: bytes, end: bytes) -> Iterator[bytes]:
    """The contents of every ``start…end`` element of a member, streamed."""
    pattern = re.compile(re.escape(start[:-1]) + rb"(?:\s[^>]*)?>(.*?)" + re.escape(end), re.S)
    with archive.open(member) as handle:
        buffer = b""
        while chunk := handle.read(_CHUNK):
            buffer += chunk
            cut = buffer.rfind(end)
            if cut < 0:
                continue
            cut += len(end)
            yield from pattern.findall(buffer, 0, cut)
            buffer = buffer[cut:]


def _skippable(buffer: bytes, first: int) -> int | None:
    """How much of ``buffer`` can be dropped unparsed, up to where its last row starts (0: nothing yet,
    read on), or None when parsing must start here: a row before that one does not name its number
    (``<row r="…"``: such a row is numbered by counting, which needs every row parsed), or that row is
    already ``first`` or after it."""
    tail = buffer.rfind(b"<row ")
    if tail > 0 and buffer.find(b">", tail) < 0:   # the chunk ended inside that tag: the one before
        tail = buffer.rfind(b"<row ", 0, tail)
    if tail < 0:
        return 0
    found = _ROW_NUMBER_BYTES.match(buffer, tail)
    if found is None or int(found.group(1)) >= first:
        return None
    if buffer.count(b"<row", 0, tail) != buffer.count(b'<row r="', 0, tail):
        return None
    return tail


def _member(archive: zipfile.ZipFile, target: str) -> str:
    target = target.lstrip("/")
    return target if target.startswith("xl/") else "xl/" + target


class Workbook:
    """An XLSX (OOXML) package read lazily: sheet names, their XML members, styles, shared strings."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        names = set(archive.namelist())
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
        targets = {m.group(1): m.group(2).decode() for m in re.finditer(
            rb'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"', rels)}
        targets.update({m.group(2): m.group(1).decode() for m in re.finditer(
            rb'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"', rels)})
        self.sheets: list[tuple[str, str]] = []
        for attrs in re.findall(rb"<sheet\b([^>]*)/?>", book):
            name = re.search(rb'\bname="([^"]*)"', attrs)
            rid = re.search(rb'\br:id="([^"]*)"', attrs) or re.search(rb'\bid="([^"]*)"', attrs)
            if name and rid and rid.group(1) in targets:
                self.sheets.append((_text(name.group(1)), _member(archive, targets[rid.group(1)])))
        self.epoch = _EPOCH_1904 if re.search(rb'date1904="(1|true)"', book) else _EPOCH_1900
        self.date_styles = _date_styles(archive.read("xl/styles.xml")) if "xl/styles.xml" in names else set()
        self._shared_member = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else None
        self._shared: SharedStrings | None = None

    @property
    def shared(self) -> SharedStrings:
        if self._shared is None:
            self._shared = SharedStrings(self.archive, self._shared_member)
        return self._shared

    def size_of(self, member: str) -> int:
        return self.archive.getinfo(member).file_size

    def rows(self, member: str, first: int = 1) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) of a sheet, one at a time; empty rows are not yielded.

        ``first``: only rows numbered from there on. The XML before them is still inflated (a deflate
        stream has no other way in), but not parsed while every row in it names its number.
        """
        last = 0
        skipping = first > 1
        with self.archive.open(member) as handle:
            buffer = b""
            while True:
                chunk = handle.read(_CHUNK)
                buffer += chunk
                if skipping and chunk:
                    tail = _skippable(buffer, first)
                    if tail is not None:
                        buffer = buffer[tail:]
                        continue
                    skipping = False
                cut = buffer.rfind(b"</row>") if chunk else len(buffer)
                if cut < 0:
                    continue
                cut = cut + 6 if chunk else cut
                # cut after an ASCII tag, so no UTF-8 character is split; one decode per chunk
                text = buffer[:cut].decode("utf-8", "replace")
                buffer = buffer[cut:]
                for attrs, body in _ROW.findall(text):
                    number = _ROW_NUMBER.search(attrs)
                    last = int(number.group(1)) if number else last + 1
                    if body and last >= first:
                        yield last, self._cells(body)
                if not chunk:
                    return

    def last_row_estimate(self, member: str) -> int | None:
        """The sheet's last row number, estimated from the bytes per row of its first rows' XML and the
        size of its XML (None when the first rows do not name their numbers). Not the ``<dimension>``
        element: write-only writers (openpyxl's among them) leave it out, and formatting can stretch it."""
        with self.archive.open(member) as handle:
            head = handle.read(1 << 20)
        numbered = list(_ROW_NUMBER_BYTES.finditer(head))
        if len(numbered) < 2:
            return None
        first, last = numbered[0], numbered[-1]
        span = int(last.group(1)) - int(first.group(1))
        if span <= 0:
            return None
        per_row = (last.start() - first.start()) / span
        return int(first.group(1)) + int((self.size_of(member) - first.start()) / per_row)

    def reopened(self, path: str | Path) -> Workbook:
        """The same workbook through a file handle of its own (a second reader must not share the
        first one's file offset); styles and shared strings already read are shared."""
        other = copy.copy(self)
        other.archive = zipfile.ZipFile(path)
        return other

    def _cells(self, body: str) -> list[Any]:
        matches = _CELL_FAST.findall(body)
        if not matches or body.count("<c ") + body.count("<c>") != len(matches):
            matches = [self._general(attrs, inner) for attrs, inner in _CELL.findall(body)]
        cells: list[Any] = []
        columns, shared, dates = _COLUMNS, self.shared if self._shared_member else None, self.date_styles
        position = -1
        for letters, style, kind, value, inline in matches:
            position = columns.get(letters) if letters else position + 1
            if position is None:
                position = _column(letters)
            gap = position - len(cells)
            if gap > 0:
                cells.extend([None] * gap)
            if kind == "s":
                cell = shared[int(value)] if value and shared is not None else None
            elif kind == "inlineStr":
                cell = _text(inline) if "&" in inline or "_x" in inline else inline
            elif kind == "decoded":   # rich inline text, already joined and unescaped by _general
                cell = inline
            elif not value:
                cell = None
            elif kind == "" or kind == "n":
                cell = float(value)
                if style and dates and int(style) in dates and 0 <= cell < 2958466:
                    cell = (self.epoch + dt.timedelta(days=cell)).replace(microsecond=0)
            elif kind == "b":
                cell = value == "1"
            else:  # str (a formula's text), e (an error such as #N/A)
                cell = _text(value)
            cells.append(cell)
        return cells

    @staticmethod
    def _general(attrs: str, inner: str) -> tuple[str, str, str, str, str]:
        found = dict(_ATTR.findall(attrs))
        letters = _LETTERS.match(found.get("r", ""))
        v = _V.search(inner or "")
        inline = ""
        if inner and "<is>" in inner:
            return (letters.group(0) if letters else "", "", "decoded",
                    "", _inline(inner[inner.index("<is>") + 4: inner.rindex("</is>")]))
        return (letters.group(0) if letters else "", found.get("s", ""), found.get("t", ""),
                v.group(1) if v else "", inline)


_COLUMNS: dict[str, int] = {}


def _column(letters: str) -> int:
    index = _COLUMNS.get(letters)
    if index is None:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        index = _COLUMNS[letters] = n - 1
    return index


def _date_styles(styles: bytes) -> set[int]:
    """Indexes of the cell styles (``s="…"``) whose number format shows a date."""
    custom = {}
    for fmt_id, code in re.findall(rb'<numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"', styles):
        bare = _QUOTED.sub("", html.unescape(code.decode("utf-8", "replace"))).lower()
        custom[int(fmt_id)] = any(ch in bare for ch in "ymd") and "general" not in bare
    xfs = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S)
    dates = set()
    if xfs:
        for index, attrs in enumerate(re.findall(rb"<xf\b([^>]*)", xfs.group(1))):
            found = re.search(rb'numFmtId="(\d+)"', attrs)
            fmt = int(found.group(1)) if found else 0
            if fmt in _DATE_FORMATS or custom.get(fmt):
                dates.add(index)
    return dates
