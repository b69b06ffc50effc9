"""Reading a streamed sheet from a row on (the second reader of a split workbook, lowincome.speedups.two_cores):
the rows are exactly those a reader from the top gives from that row on, numbered the same."""

from __future__ import annotations

import copy
import pickle
import zipfile

import pytest

from lowincome import xlsx_stream
from lowincome.xlsx_stream import Workbook

SHEET = "xl/worksheets/sheet1.xml"


def workbook(path, rows: list[str], shared: list[str] = ()) -> Workbook:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        if shared:
            z.writestr("xl/sharedStrings.xml", "<sst>" + "".join(f"<si><t>{t}</t></si>" for t in shared) + "</sst>")
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
    monkeypatch.setattr(xlsx_stream, "_CHUNK", chunk)     # chunk edges inside tags and characters
    rows = [numbered(n) for n in range(1, 120) if n % 7]   # sparse: every 7th row missing
    rows.insert(30, '<row r="31"/>')                       # an empty row element
    book = workbook(tmp_path / "a.xlsx", rows)
    whole = list(book.rows(SHEET))
    skipped = []
    real = xlsx_stream._skippable

    def skippable(buffer, first):
        tail = real(buffer, first)
        skipped.append(tail is not None)
        return tail

    monkeypatch.setattr(xlsx_stream, "_skippable", skippable)
    for first in (1, 2, 7, 14, 15, 31, 60, 119, 500):
        assert list(book.rows(SHEET, first)) == [r for r in whole if r[0] >= first], first
    assert any(skipped)   # XML was passed over unparsed


def test_rows_that_do_not_name_their_number_are_counted_not_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_stream, "_CHUNK", 64)
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


def test_the_row_pattern_finds_what_the_plain_lazy_pattern_finds():
    """xlsx_stream._ROW is written for speed (possessive runs of [^<]); it must cut rows exactly as the
    obvious pattern does, including self-closing rows, tags that start like </row and a row left open."""
    import re

    plain = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
    texts = [
        numbered(1) + '<row r="2"/>' + numbered(3),
        '<row r="1"><c r="A1"><f>A2&lt;3</f><v>1</v></c></row><row r="2" spans="1:2">\n<c r="B2"/></row>',
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></rowx></row><rows/>',
        '<sheetData>' + numbered(5) + '</sheetData><rowBreaks count="1"><brk id="3"/></rowBreaks>',
        numbered(1) + '<row r="2"><c r="A2"><v>1</v></c>',            # the last row never closed
        '<row r="1">' + "<" * 50 + "</row>",
        "",
    ]
    for text in texts:
        assert xlsx_stream._ROW.findall(text) == plain.findall(text), text


def test_a_workbook_whose_sheet_names_repeat_is_read_by_one_reader(tmp_path, monkeypatch):
    """A second reader finds its sheet by member; with two sheets of one name (a broken file) it might
    take the other one, so such a sheet is never split."""
    from fixtures.county_files import households, table

    from lowincome.ingest import read

    lines = table(households(100), "households")

    def sheet_xml(rows):
        return "<worksheet><sheetData>" + "".join(
            f'<row r="{r}">' + "".join(f'<c r="{chr(65 + i)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                                       for i, v in enumerate(line)) + "</row>"
            for r, line in enumerate(rows, start=1)) + "</sheetData></worksheet>"

    def book(path, names):
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("xl/workbook.xml", "<workbook><sheets>" + "".join(
                f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, start=1))
                + "</sheets></workbook>")
            z.writestr("xl/_rels/workbook.xml.rels", "<Relationships>" + "".join(
                f'<Relationship Id="rId{i}" Type="x" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(names) + 1)) + "</Relationships>")
            for i in range(1, len(names) + 1):
                z.writestr(f"xl/worksheets/sheet{i}.xml", sheet_xml(lines))
        return path

    monkeypatch.setattr(read, "STREAM_ABOVE", 0)
    monkeypatch.setattr(read, "SPLIT_ABOVE", 1)
    for names, splits in ((["登记表", "备用"], True), (["登记表", "登记表"], False)):
        tbl = read.open_table(book(tmp_path / f"{len(set(names))}.xlsx", names))
        try:
            assert (tbl.book is not None) == splits
            assert (read.split(tbl) is not None) == splits
        finally:
            tbl.close()


def test_a_split_is_plain_values_that_another_process_reads_the_same_rows_from(tmp_path):
    """What a second process is told (lowincome.speedups.two_cores pickles it): the split, and the workbook
    as its first reader read it (shared strings) without its open file. Read back, with that workbook or
    with none (read anew), it gives the rows of a whole read from that row on."""
    from lowincome.ingest import read

    path = tmp_path / "f.xlsx"
    rows = [numbered(n) for n in range(1, 50)] + [f'<row r="{n}"><c r="A{n}" t="s"><v>{n % 2}</v></c></row>'
                                                  for n in range(50, 60)]
    book = workbook(path, rows, shared=["甲", "乙"])
    whole = list(book.rows(SHEET))
    assert whole[-1] == (59, ["乙"])
    split = read.Split(40, "xlsx", path, member=SHEET)
    portable = copy.copy(book)
    portable.archive = None
    told, told_book = pickle.loads(pickle.dumps((split, portable)))
    assert told == split
    assert list(told.part(told_book)) == list(told.part()) == list(split.part(book)) == whole[39:]
    assert book.archive.fp is not None   # the first reader's own file is still open
