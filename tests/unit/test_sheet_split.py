"""Reading a streamed sheet from a row on (the second reader of a split workbook, lowincome.ingest.parts):
the rows are exactly those a reader from the top gives from that row on, numbered the same."""

from __future__ import annotations

import zipfile

import pytest

from lowincome.ingest import sheet_stream
from lowincome.ingest.sheet_stream import Workbook

SHEET = "xl/worksheets/sheet1.xml"


def workbook(path, rows: list[str]) -> Workbook:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships><Relationship Id="rId1" Type="x" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr(SHEET, '<worksheet><dimension ref="A1:B9"/><sheetData>' + "".join(rows)
                   + '</sheetData><rowBreaks count="1"><brk id="3"/></rowBreaks></worksheet>')
    return Workbook(zipfile.ZipFile(path))


def numbered(n: int, text: str = "值") -> str:
    return f'<row r="{n}" spans="1:2"><c r="A{n}" t="inlineStr"><is><t>{text}{n}</t></is></c><c r="B{n}"><v>{n}</v></c></row>'


@pytest.mark.parametrize("chunk", [7, 64, 1 << 22])
def test_rows_from_a_row_on_are_the_rows_of_a_whole_read(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(sheet_stream, "_CHUNK", chunk)     # chunk edges inside tags and characters
    rows = [numbered(n) for n in range(1, 120) if n % 7]   # sparse: every 7th row missing
    rows.insert(30, '<row r="31"/>')                       # an empty row element
    book = workbook(tmp_path / "a.xlsx", rows)
    whole = list(book.rows(SHEET))
    skipped = []
    real = sheet_stream._skippable

    def skippable(buffer, first):
        tail = real(buffer, first)
        skipped.append(tail is not None)
        return tail

    monkeypatch.setattr(sheet_stream, "_skippable", skippable)
    for first in (1, 2, 7, 14, 15, 31, 60, 119, 500):
        assert list(book.rows(SHEET, first)) == [r for r in whole if r[0] >= first], first
    assert any(skipped)   # XML was passed over unparsed


def test_rows_that_do_not_name_their_number_are_counted_not_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(sheet_stream, "_CHUNK", 64)
    rows = [numbered(n) for n in range(1, 20)] + [numbered(0).replace(' r="0"', "") for _ in range(20)] + \
        [numbered(n) for n in range(45, 90)]
    book = workbook(tmp_path / "b.xlsx", rows)
    whole = list(book.rows(SHEET))
    assert [n for n, _ in whole][18:22] == [19, 20, 21, 22]   # numbered by counting after row 19
    for first in (10, 25, 45, 60):
        assert list(book.rows(SHEET, first)) == [r for r in whole if r[0] >= first], first
    assert [n for n, _ in book.rows(SHEET, 38)][:3] == [38, 39, 45]


def test_the_last_row_is_estimated_from_the_size_of_the_xml(tmp_path):
    book = workbook(tmp_path / "c.xlsx", [numbered(n) for n in range(1, 5001)])
    estimate = book.last_row_estimate(SHEET)
    assert 4_900 <= estimate <= 5_100
    assert workbook(tmp_path / "d.xlsx", [numbered(0).replace(' r="0"', "")] * 50).last_row_estimate(SHEET) is None


def test_a_reopened_workbook_reads_through_its_own_file(tmp_path):
    path = tmp_path / "e.xlsx"
    book = workbook(path, [numbered(n) for n in range(1, 50)])
    other = book.reopened(path)
    assert other.archive is not book.archive and other.archive.fp is not book.archive.fp
    assert list(other.rows(SHEET, 40)) == list(book.rows(SHEET))[39:]
    other.archive.close()
    assert len(list(book.rows(SHEET))) == 49
