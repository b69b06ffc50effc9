"""Reading a county file, whatever it claims to be: its rows, streamed (the first stage).

The content decides what a file is (a ``.csv`` that is really a workbook is read as a workbook; junk
named ``.xlsx`` is refused). Every refusal is a :class:`FileRejected` with a stable code, never a crash.

* CSV: the encoding is decided over the whole file (UTF-8 with or without BOM, else GB18030, the
  superset of GBK; UTF-16 with a BOM) by a C-speed decode pass, so a GBK byte in row 900,000 cannot
  surface after half the file was loaded; the delimiter is the one under which a template's header
  appears; lines are read with a length cap so a file without line breaks cannot exhaust memory, and
  so is a field (:data:`MAX_FIELD_CHARS`).
* A landing file is opened with :func:`lowincome.ingest.files.open_landed` (never through a link; a
  regular file with one name); calamine opens a workbook by its path itself, after those checks.
* XLSX/XLS/ODS: python-calamine. Before a zip is opened its directory is checked (declared
  uncompressed sizes, compression ratios, entry count) so a zip bomb is refused unopened. The data
  sheet is the one whose header matches a template; a ``上报说明`` sheet is the county's explanation.
  Rows are converted to Python lazily (``iter_rows``); the sheet itself is held by calamine in native
  cells (about 32 bytes each).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lowincome.ingest.files import open_landed
from lowincome.ingest.reasons import FileRejected
from lowincome.ingest.recognise import HEADER_SCAN_ROWS, MAX_COLUMNS, HeaderMatch, find_header, fold
from lowincome.xlsx_stream import Workbook

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et"}
# Zip directory limits: the largest real workbook (1,048,576 rows x 17 columns) unpacks to ~1.2 GB of
# XML at a ratio near 10:1; a bomb unpacks at ratios of 1,000:1 and more.
MAX_UNCOMPRESSED = 3 * 1024**3
MAX_RATIO = 150
RATIO_FLOOR = 20 * 1024**2   # below this an entry may compress as well as it likes
MAX_ENTRIES = 2_000
MAX_LINE_CHARS = 1 << 20
# The csv module's own cap on one field (131,072 characters unless raised; the setting is the process's)
# is raised to the line cap: a long cell is then read and rejected as its row's "too long" (the
# contract's max_length, far below), not as a malformed file. A quoted field that spans lines stays
# bounded by it, and one over it rejects the file with that reason.
MAX_FIELD_CHARS = MAX_LINE_CHARS
# Sheets with more XML than this are streamed (:mod:`lowincome.xlsx_stream`) instead of loaded whole by calamine, which
# holds ~1.9 bytes of memory per byte of sheet XML: this bounds the reader's memory near 250 MB.
STREAM_ABOVE = 128 * 1024**2
CSV_DELIMITERS = (",", "\t", ";", "|")
# A CSV (or a streamed sheet's XML) this big is parsed by two processes (lowincome.speedups.two_cores), each
# from its half of the rows; below it the second process costs more than it saves (its start and its own
# connection). Every streamed sheet is above it.
SPLIT_ABOVE = 32 * 1024**2
SPLIT_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "gb18030"})   # a line feed byte is always a line feed
EXPLANATION_SHEET = "上报说明"
# What a damaged character of a text file is read as (Unicode's REPLACEMENT CHARACTER): a row holding one
# is rejected as a damaged line (validation.yaml's damaged_line), never loaded
DAMAGED = "\ufffd"
_CHUNK = 1 << 20
Row = tuple[int, list[Any]]   # (row number as the county sees it, cells)


@dataclass
class Table:
    """The data table of a file: where its header is, and its rows after the header, streamed."""

    kind: str                      # csv | xlsx
    match: HeaderMatch
    head: list[Row]                # the first rows (header and whatever is above it, and a few data rows)
    rest: Iterator[Row]
    encoding: str | None = None
    sheet: str | None = None
    path: Path | None = None       # the file and how to read it again from the middle (see split)
    delimiter: str | None = None   # CSV
    book: Any = None               # a streamed workbook (xlsx_stream.Workbook) and its sheet's member
    member: str | None = None
    explanation: str | None = None
    _closers: list[Any] = field(default_factory=list)

    def data_rows(self) -> Iterator[Row]:
        """Rows after the header (still including blank, unit and total rows: the parser skips those)."""
        start = self.match.data_start
        yield from self.head[start:]
        yield from self.rest

    def close(self) -> None:
        for closer in self._closers:
            try:
                closer()
            except Exception:  # closing a broken file must not hide the real outcome
                pass


def sniff(path: Path) -> str:
    """``xlsx`` (any workbook calamine reads), ``csv`` (text), or a FileRejected."""
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("empty")
    with open_landed(path) as handle:
        head = handle.read(8192)
    if head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC):
        return "xlsx"
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        raise FileRejected("not_a_workbook")
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf") and size <= len(head):
        raise FileRejected("blank")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and not damaged_text(head):
        raise FileRejected("unreadable", detail="不是文本文件，也不是Excel工作簿")
    return "csv"


def damaged_text(head: bytes) -> bool:
    """A text file with a few NUL bytes (a damaged line of a county's export), not a binary one: NULs are
    at most 1 in 100 bytes of the head, and without them it is text in UTF-8 or GB18030. Its lines are
    read with each NUL as U+FFFD (:data:`DAMAGED`) and the lines that hold one rejected as damaged rows."""
    if head.count(b"\x00") * 100 > len(head):
        return False
    text = head.replace(b"\x00", b"")
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(text)   # not final: the head may end mid-character
        except UnicodeDecodeError:
            continue
        return True
    return False


def open_table(path: Path) -> Table:
    """The data table of the file at ``path`` (caller closes it)."""
    kind = sniff(path)
    return _open_workbook(path) if kind == "xlsx" else _open_csv(path)


def detect_encoding(path: Path) -> str:
    with open_landed(path) as handle:
        start = handle.read(4)
    if start.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    if _decodes(path, encoding):
        return encoding
    if encoding == "utf-8" and _decodes(path, "gb18030"):
        return "gb18030"
    raise FileRejected("unreadable", detail="文字编码无法识别，请保存为UTF-8或GBK编码的CSV")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open_landed(path) as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _lines(handle: Any) -> Iterator[str]:
    """The file's lines, each NUL as :data:`DAMAGED`: PostgreSQL text cannot hold a NUL, so the COPY of the
    whole file would fail; the line's row is rejected instead (validation's ``damaged_line``)."""
    readline = handle.readline
    while line := readline(MAX_LINE_CHARS):
        if len(line) >= MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise FileRejected("unreadable", detail=f"有一行超过{MAX_LINE_CHARS}个字符")
        if "\x00" in line:
            line = line.replace("\x00", DAMAGED)
        yield line


def _csv_rows(handle: Any, delimiter: str, first_line: int = 1) -> Iterator[Row]:
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)
    # strict: an unclosed quote is an error, not a cell that swallows the rest of the file's rows
    reader = csv.reader(_lines(handle), delimiter=delimiter, strict=True)
    before = previous = first_line - 1
    try:
        for cells in reader:
            yield previous + 1, cells
            previous = before + reader.line_num
    except csv.Error as err:
        if str(err).startswith("field larger than field limit"):   # CPython's words for its one size error
            raise FileRejected("unreadable", detail=f"第{previous + 1}行有单元格超过{MAX_FIELD_CHARS}个字符") from err
        raise FileRejected("unreadable", detail=f"第{previous + 1}行CSV格式错误") from err


def _open_csv(path: Path) -> Table:
    encoding = detect_encoding(path)
    best: tuple[tuple, str, HeaderMatch, list[Row]] | None = None
    broken: FileRejected | None = None
    for delimiter in CSV_DELIMITERS:
        try:
            with open_landed(path, "r", encoding=encoding, newline="") as handle:
                head = _take(_csv_rows(handle, delimiter), HEADER_SCAN_ROWS)
        except FileRejected as err:
            # Not this delimiter: a quoted cell followed by a comma is malformed under a tab (every line
            # of a file exported with all cells quoted). The file is unreadable only if no delimiter fits.
            broken = broken or err
            continue
        if delimiter != "," and not any(len(cells) > 1 for _n, cells in head):
            continue
        _check_width(head)
        match = find_header([cells for _n, cells in head])
        if match is not None:
            rank = (len(match.columns), delimiter == ",")
            if best is None or rank > best[0]:
                best = (rank, delimiter, match, head)
    if best is None:
        raise broken or FileRejected("no_template", rows=HEADER_SCAN_ROWS)
    _rank, delimiter, match, head = best
    handle = open_landed(path, "r", encoding=encoding, newline="")
    rows = _csv_rows(handle, delimiter)
    _skip(rows, len(head))
    return Table("csv", match, head, rows, encoding=encoding, path=path, delimiter=delimiter,
                 _closers=[handle.close])


@dataclass(frozen=True)
class Split:
    """Where a second reader takes over a big file, and how it reads from there.

    Plain values (the file's path and how to decode it), never an open file: the second reader is a
    process of its own (:mod:`lowincome.speedups.two_cores` sends it this through a pipe), and it opens
    the file anew."""

    first_line: int                # the first source row (line, or sheet row) it reads
    kind: str                      # csv | xlsx
    path: Path
    offset: int = 0                # CSV: the byte offset where first_line starts
    encoding: str | None = None    # CSV
    delimiter: str | None = None   # CSV
    member: str | None = None      # a streamed sheet: its XML member

    def part(self, book: Workbook | None = None) -> Iterator[Row]:
        """The rows from ``first_line`` to the end, through a file handle of their own (call it in the
        process that reads them). ``book``: the streamed workbook as its first reader read it (styles,
        shared strings), so they are not read twice; without it the workbook is read anew."""
        if self.kind == "csv":
            return csv_part(self.path, self.encoding, self.delimiter, self.offset, self.first_line)
        return sheet_part(self.path, self.member, self.first_line, book)


def split(table: Table) -> Split | None:
    """A :class:`Split` near the middle of a big CSV (:func:`csv_split`) or streamed sheet
    (:func:`sheet_split`); None when the file is read by one reader."""
    if table.kind == "csv":
        found = csv_split(table)
        return None if found is None else Split(found[1], "csv", table.path, offset=found[0],
                                                encoding=table.encoding, delimiter=table.delimiter)
    first = sheet_split(table)
    return None if first is None else Split(first, "xlsx", table.path, member=table.member)


def sheet_split(table: Table) -> int | None:
    """The row of a big streamed sheet where a second reader can start: halfway between the last row read
    to find the header and the sheet's last row as estimated from its size; None for a small sheet or
    one whose rows do not name their numbers. A wrong estimate costs speed, never rows: the first reader
    stops before this row whatever the sheet holds, the second starts at it."""
    if table.book is None or table.member is None or table.path is None:
        return None
    if table.book.size_of(table.member) < SPLIT_ABOVE:
        return None
    last = table.book.last_row_estimate(table.member)
    read = table.head[-1][0] if table.head else 0
    if last is None or last <= read + 1:
        return None
    return (read + last + 1) // 2


def sheet_part(path: Path, member: str, first: int, book: Workbook | None = None) -> Iterator[Row]:
    """The rows of a streamed sheet from row ``first`` on, through a file handle of their own."""
    if book is None:
        archive = zipfile.ZipFile(path)
        try:
            book = Workbook(archive)
        except BaseException:
            archive.close()
            raise
    else:
        book = book.reopened(path)
    try:
        yield from book.rows(member, first)
    finally:
        book.archive.close()


def csv_split(table: Table) -> tuple[int, int] | None:
    """Where a second reader can take over a big CSV: (byte offset, line number) of a line near the
    middle, or None when the file is small or a line break might not end a record.

    A line break always ends a record when the file holds no quote character (only a quoted field can
    hold a line break) and a carriage return only before a line feed (the reader also ends a line at a
    lone one). One pass over the bytes, in chunks: C-speed counts, memory flat in the file's size.
    """
    if table.kind != "csv" or table.path is None or table.encoding not in SPLIT_ENCODINGS:
        return None
    size = table.path.stat().st_size
    if size < SPLIT_ABOVE:
        return None
    middle = size // 2
    offset = None
    lines = returns = returns_before_feed = position = 0
    last = b""
    with open_landed(table.path) as handle:
        while chunk := handle.read(4 * _CHUNK):
            if b'"' in chunk:
                return None
            returns += chunk.count(b"\r")
            returns_before_feed += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
            if offset is None:
                at = chunk.find(b"\n", max(0, middle - position)) if position + len(chunk) > middle else -1
                lines += chunk.count(b"\n", 0, len(chunk) if at == -1 else at + 1)
                if at != -1:
                    offset = position + at + 1
            last = chunk[-1:]
            position += len(chunk)
    if offset is None or offset >= size or returns != returns_before_feed:
        return None
    if table.head and lines + 1 <= table.head[-1][0]:
        return None   # the middle is within the rows read to find the header (very long lines): one reader
    return offset, lines + 1


def csv_part(path: Path, encoding: str, delimiter: str, offset: int, first_line: int) -> Iterator[Row]:
    """The rows of a CSV from ``offset`` (a line start found by :func:`csv_split`) to its end."""
    handle = open_landed(path)
    handle.seek(offset)
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding   # no BOM mid-file
    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    try:
        yield from _csv_rows(text, delimiter, first_line)
    finally:
        text.close()


def _take(rows: Iterator[Row], n: int) -> list[Row]:
    out = []
    for row in rows:
        out.append(row)
        if len(out) >= n:
            break
    return out


def _skip(rows: Iterator[Row], n: int) -> None:
    for _ in range(n):
        if next(rows, None) is None:
            return


def _check_width(head: list[Row]) -> None:
    widest = max((sum(1 for v in cells if v not in (None, "")) for _n, cells in head), default=0)
    if widest > MAX_COLUMNS:
        raise FileRejected("too_many_columns", columns=widest, limit=MAX_COLUMNS)


def check_zip(path: Path) -> None:
    """Refuse a zip bomb from its directory alone, before anything is decompressed."""
    try:
        with open_landed(path) as handle, zipfile.ZipFile(handle) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise FileRejected("unreadable", detail="工作簿已损坏或不完整") from err
    if len(entries) > MAX_ENTRIES:
        raise FileRejected("zip_bomb", detail=f"{len(entries)}个压缩条目")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED:
        raise FileRejected("zip_bomb", detail=f"解压后约{total / 1024**3:.1f}GB")
    for entry in entries:
        if entry.file_size > RATIO_FLOOR and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise FileRejected("zip_bomb", detail=f"压缩比超过{MAX_RATIO}:1")


def _open_workbook(path: Path) -> Table:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    with open_landed(path) as handle:
        magic = handle.read(4)
    if magic == ZIP_MAGIC:
        check_zip(path)
        if _largest_sheet(path) > STREAM_ABOVE:
            return _open_streamed(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError as err:
        raise FileRejected("encrypted") from err
    except (CalamineError, OSError, ValueError) as err:
        raise _workbook_error(err) from err
    try:
        sheets = [(name, lambda n=name: _sheet_rows(workbook.get_sheet_by_name(n)))
                  for name in workbook.sheet_names]
        return _pick_sheet(sheets, "xlsx", [workbook.close])
    except FileRejected:
        workbook.close()
        raise
    except PasswordError as err:
        workbook.close()
        raise FileRejected("encrypted") from err
    except (CalamineError, ValueError) as err:
        workbook.close()
        raise _workbook_error(err) from err


def _largest_sheet(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return max((e.file_size for e in archive.infolist() if e.filename.startswith("xl/worksheets/")), default=0)


def _open_streamed(path: Path) -> Table:
    archive = zipfile.ZipFile(path)
    try:
        book = Workbook(archive)
        sheets = [(name, lambda m=member: book.rows(m)) for name, member in book.sheets]
        table = _pick_sheet(sheets, "xlsx", [archive.close])
        members = [member for name, member in book.sheets if name == table.sheet]
        if len(members) == 1:   # a second reader must read the same sheet (names repeat only in broken files)
            table.path, table.book, table.member = path, book, members[0]
        return table
    except FileRejected:
        archive.close()
        raise
    except (KeyError, ValueError, zipfile.BadZipFile, EOFError) as err:
        archive.close()
        raise FileRejected("unreadable", detail="工作簿已损坏或格式无法识别") from err


def _workbook_error(err: Exception) -> FileRejected:
    text = str(err).lower()
    if "password" in text or "encrypt" in text:
        return FileRejected("encrypted")
    return FileRejected("unreadable", detail="工作簿已损坏或格式无法识别")


def _sheet_rows(sheet: Any) -> Iterator[Row]:
    if sheet.width > 16_384:
        raise FileRejected("too_many_columns", columns=sheet.width, limit=MAX_COLUMNS)
    # iter_rows starts at the sheet's first row (row 1), whatever the first used row is.
    yield from enumerate(sheet.iter_rows(), start=1)


def _pick_sheet(sheets: list[tuple[str, Any]], kind: str, closers: list) -> Table:
    """The sheet whose header matches a template best (the first such sheet on a tie)."""
    explanation = None
    best: tuple[tuple, str, HeaderMatch, list[Row], Iterator[Row]] | None = None
    for order, (name, open_rows) in enumerate(sheets):
        if fold(name) == fold(EXPLANATION_SHEET):
            explanation = _sheet_text(open_rows())
            continue
        rows = open_rows()
        head = _take(rows, HEADER_SCAN_ROWS)
        _check_width(head)
        match = find_header([cells for _n, cells in head])
        if match is None:
            continue
        rank = (len(match.columns), -order)
        if best is None or rank > best[0]:
            best = (rank, name, match, head, rows)
    if best is None:
        raise FileRejected("no_template", rows=HEADER_SCAN_ROWS)
    _rank, name, match, head, rows = best
    return Table(kind, match, head, rows, sheet=name, explanation=explanation, _closers=closers)


def _sheet_text(rows: Iterator[Row]) -> str | None:
    lines = []
    for _number, cells in rows:
        text = " ".join(str(v).strip() for v in cells if v not in (None, ""))
        if text:
            lines.append(text)
        if sum(map(len, lines)) > 10_000:
            break
    return "\n".join(lines)[:10_000] or None
