"""Readers, header matching and cell normalisation on tiny real files (no warehouse needed)."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from fixtures.county_files import COUNTY, households, incomes, table, villages, write_csv, write_xlsx

from lowincome.ingest import files, normalise, read, recognise
from lowincome.ingest.account import neutralise
from lowincome.ingest.normalise import RowStream
from lowincome.ingest.reasons import REASONS_FILE, FileRejected, reason, reason_table
from lowincome.pseudonym import keyed_hash, make_hasher
from lowincome.templates import template, templates


def stream(path: Path) -> tuple[RowStream, list[tuple]]:
    tbl = read.open_table(path)
    try:
        rs = RowStream(tbl, make_hasher("k"))
        return rs, list(rs.rows())
    finally:
        tbl.close()


def as_dicts(rs: RowStream, out: list[tuple]) -> list[dict]:
    return [dict(zip(["_source_row", *rs.load_columns], r, strict=True)) for r in out]


@pytest.fixture(params=["calamine", "streamed"])
def xlsx_reader(request, monkeypatch) -> str:
    """Every workbook test runs through both readers: calamine, and the streaming one for big sheets."""
    if request.param == "streamed":
        monkeypatch.setattr(read, "STREAM_ABOVE", 0)
    return request.param


def rejected(path: Path) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        tbl = read.open_table(path)
        tbl.close()
    return caught.value


# --- header folding and matching -----------------------------------------------------------------

@pytest.mark.parametrize("label, column, unit", [
    ("家庭纯收入", "net_income", ""),
    (" 家庭纯收入（元） ", "net_income", "元"),
    ("家庭纯收入(元)", "net_income", "元"),
    ("家庭纯收入\n(元)", "net_income", "元"),
    ("NET_INCOME", "net_income", ""),
    ("net income", "net_income", ""),
    ("ｎｅｔ＿ｉｎｃｏｍｅ", "net_income", ""),
    ("纯收入", "net_income", ""),                       # alias
    ("家庭纯收入【万元】", "net_income", "万元"),
    ("家庭纯收入万元", "net_income", "万元"),
    ("贷款年利率（％）", "loan_rate_pct", ""),           # the unit is part of the contract's header
    ("*户编号", "household_id", ""),
])
def test_header_labels_fold_onto_the_contract(label, column, unit):
    found, got_unit = recognise.match_label(label)
    assert column in found.values()
    assert got_unit == unit


def test_unknown_label_matches_nothing():
    assert recognise.match_label("备注") == ({}, "")
    assert recognise.match_label(None) == ({}, "")


def test_every_contract_header_and_alias_is_recognised():
    for tpl in templates().values():
        for col in tpl.columns:
            for label in (col.zh, col.name, *col.aliases):
                assert recognise.match_label(label)[0].get(tpl.name) == col.name, (tpl.name, label)


def test_header_below_title_and_unit_rows_and_wan_yuan_scale():
    rows = [["衢江区2014年扶贫重点村与经济薄弱村台账"], ["单位:元"],
            table(villages(1), "villages", headers={"collective_operating_income": "村集体经营性收入（万元）"})[0]]
    match = recognise.find_header(rows)
    assert match.template.name == "villages"
    assert match.header_rows == (2,)
    assert match.scale("collective_operating_income") == Decimal(10000)
    assert match.scale("pairing_funds") is None


def test_unit_row_says_wan_yuan_for_every_money_column():
    rows = [["单位：万元"], table(villages(1), "villages")[0]]
    match = recognise.find_header(rows)
    assert match.scale("pairing_funds") == Decimal(10000)


def test_two_row_merged_header_is_combined():
    head = table(incomes(1), "household_income")[0]
    top = list(head)
    sub = [None] * len(head)
    for i in range(4, 8):                  # 收入构成 over the four components
        sub[i] = head[i]
        top[i] = "收入构成" if i == 4 else None
    match = recognise.find_header([top, sub])
    assert match.template.name == "household_income"
    assert match.header_rows == (0, 1)
    assert not match.missing


def test_missing_column_and_unknown_columns_are_reported():
    head = [h for h in table(households(1), "households")[0] if h != "是否低保户"] + ["备注", "序号"]
    match = recognise.find_header([head])
    assert match.template.name == "households"
    assert match.missing == ["is_dibao"]
    assert match.unknown == ["备注", "序号"]


def test_no_header_no_template():
    assert recognise.find_header([["a", "b"], ["1", "2"]]) is None


# --- cells ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (2014.0, "2014"), (330803100201.0, "330803100201"), (1234.5, "1234.5"), (0.1 + 0.2, "0.3"),
    (330802199001011234.0, "3.30802199001011E+17"),   # an 18-digit ID as a number: digits lost, kept visible
    (-500.0, "-500"), (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"),
    (-(2.0**53), "-9.00719925474099E+15"), (2.0**53 - 1, "9007199254740991"), (True, "true"), (dt.datetime(2014, 3, 15), "2014-03-15"), (dt.date(2014, 3, 5), "2014-03-05"),
    ("  ３３０８０３ ", "330803"), ("，", ","), ("\u3000", None), ("", None), (None, None),
])
def test_text_of(value, text):
    assert normalise.text_of(value) == text


@pytest.mark.parametrize("text, iso", [
    ("2014/3/15", "2014-03-15"), ("2014.3.5", "2014-03-05"), ("2014年3月15日", "2014-03-15"),
    ("20140315", "2014-03-15"), ("2014-03-15 00:00:00", "2014-03-15"), ("2014/2/30", "2014/2/30"), ("去年", "去年"),
])
def test_iso_dates(text, iso):
    assert normalise.iso_date(text) == iso


def test_normalisers_by_column_type():
    money = template("villages").column("collective_operating_income")
    wan = normalise.normaliser(money, Decimal(10000))
    assert wan("5.2") == "52000" and wan(5.2001) == "52001" and wan("1,234.5") == "12345000" and wan("abc") == "abc"
    plain = normalise.normaliser(money)
    assert plain("1,234.50") == "1234.50" and plain("1,2") == "1,2"
    date = normalise.normaliser(template("relocations").column("move_date"))
    assert date(41713.0) == "2014-03-15" and date("2014/3/15") == "2014-03-15"
    ident = normalise.normaliser(template("households").column("head_id_number"))
    assert ident("33080319650302001x") == "33080319650302001X"
    assert ident("3.30803E+17") == "3.30803E+17"      # not judged here: validation rejects it


# --- CSV -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(tmp_path, encoding):
    path = write_csv(tmp_path / "f.csv", table(households(3), "households"), encoding=encoding)
    rs, out = stream(path)
    assert rs.template.name == "households"
    assert [r["head_name"] for r in as_dicts(rs, out)] == ["张1", "张2", "张3"]
    assert [r[0] for r in out] == [2, 3, 4]


def test_csv_gbk_byte_far_down_the_file_is_found(tmp_path):
    lines = table(households(2000), "households", style="en")
    lines[-1][6] = "欧阳"
    path = write_csv(tmp_path / "f.csv", lines, encoding="gbk")
    assert read.detect_encoding(path) == "gb18030"


def test_csv_semicolon_and_tab_delimiters(tmp_path):
    for delimiter in (";", "\t"):
        lines = table(households(2), "households")
        path = tmp_path / f"f{ord(delimiter)}.csv"
        path.write_text("\n".join(delimiter.join(str(v) for v in line) for line in lines), encoding="utf-8")
        rs, out = stream(path)
        assert len(out) == 2 and rs.template.name == "households"


def test_csv_blank_total_and_footer_rows_are_not_data(tmp_path):
    lines = table(households(3), "households")
    lines.insert(2, [""] * len(lines[0]))
    lines.insert(3, [])
    lines.append(["合计", "", "", "", "", "", "", "", 6])
    lines.append(["填表人：王五", "", "联系电话：123"])
    path = write_csv(tmp_path / "f.csv", lines)
    rs, out = stream(path)
    assert [r[0] for r in out] == [2, 5, 6]            # the county's line numbers, blanks skipped
    assert rs.tally.rows_read == 3 and rs.tally.blank == 2 and rs.tally.not_data == 2


def test_csv_full_width_digits_and_punctuation(tmp_path):
    rows = households(1)
    rows[0]["village_code"] = "３３０８０３１００２０１"
    rows[0]["household_size"] = "２"
    rows[0]["household_id"] = "Ｈ００００１"
    path = write_csv(tmp_path / "f.csv", table(rows, "households", headers={"county_code": "县（市、区）代码"}))
    rs, out = stream(path)
    row = as_dicts(rs, out)[0]
    assert (row["village_code"], row["household_size"], row["household_id"]) == ("330803100201", "2", "H00001")


def test_csv_id_number_mangled_by_excel_stays_text(tmp_path):
    rows = households(1)
    rows[0]["head_id_number"] = "3.30803E+17"
    rs, out = stream(write_csv(tmp_path / "f.csv", table(rows, "households")))
    assert as_dicts(rs, out)[0]["head_id_number"] == "3.30803E+17"


def test_pseudonyms_are_the_keyed_hashes_of_the_normalised_codes(tmp_path):
    rows = households(1)
    rows[0]["household_id"] = " H00001 "
    rs, out = stream(write_csv(tmp_path / "f.csv", table(rows, "households")))
    row = as_dicts(rs, out)[0]
    assert row["household_key"] == keyed_hash("k", COUNTY, "H00001")
    assert row["head_person_key"] == keyed_hash("k", row["head_id_number"])


def test_a_blank_part_makes_no_pseudonym_and_any_hasher_gives_the_same_rows(tmp_path):
    """The row function copies make_hasher's keyed HMAC inline; a plain hasher function is called instead."""
    rows = households(3)
    rows[1]["household_id"] = "  "
    rows[2]["head_id_number"] = None
    path = write_csv(tmp_path / "f.csv", table(rows, "households"))
    rs, out = stream(path)
    got = as_dicts(rs, out)
    assert [r["household_key"] is None for r in got] == [False, True, False]
    assert [r["head_person_key"] is None for r in got] == [False, False, True]

    def plain(*parts):
        return None if any(p is None or p == "" for p in parts) else keyed_hash("k", *parts)

    tbl = read.open_table(path)
    try:
        assert list(RowStream(tbl, plain).rows()) == out
    finally:
        tbl.close()


def reference_rows(tbl: read.Table, key: str) -> tuple[list[tuple], tuple]:
    """The load-table rows and the tally of a table, one row at a time: each cell through the cell rule of
    :func:`lowincome.ingest.normalise.normaliser`, pseudonyms by :func:`keyed_hash` (what RowStream,
    which works a chunk of rows at a time, column by column, must give)."""
    match = tbl.match
    tpl = match.template
    columns = [name for name in tpl.column_names if name in match.columns]
    positions = [match.columns[name] for name in columns]
    width = max(positions) + 1
    keys = [[columns.index(p) for p in parts] for parts in tpl.pseudonyms.values() if set(parts) <= set(columns)]

    def rules() -> list:
        return [normalise.normaliser(tpl.column(name), match.scale(name)) for name in columns]

    cell_rules, below_header = rules(), True
    rows, counts, counties, years = [], {"blank": 0, "unit": 0, "not_data": 0}, {}, {}
    for number, cells in tbl.data_rows():
        cells = list(cells) + [None] * (width - len(cells))
        values = [rule(cells[p]) for rule, p in zip(cell_rules, positions, strict=True)]
        if not any(values):
            counts["blank"] += 1
            continue
        if below_header:
            below_header = False
            if recognise.is_unit_row(cells):
                recognise.column_units_from_row(cells, match)
                cell_rules = rules()
                counts["unit"] += 1
                continue
        first = cells[0]
        if (first is None or (isinstance(first, str) and (first == "" or first[0] in "全本总合小填制审负单统联注 \u3000"))) \
                and normalise._is_not_data(cells):
            counts["not_data"] += 1
            continue
        for tally, name in ((counties, "county_code"), (years, "year")):
            value = values[columns.index(name)]
            if value in tally or len(tally) < normalise.MAX_TALLY:
                tally[value] = tally.get(value, 0) + 1
        parts = [[values[i] for i in idx] for idx in keys]
        rows.append((number, *values, *[keyed_hash(key, *p) if all(p) else None for p in parts]))
    return rows, (len(rows), counts["blank"], counts["not_data"], counts["unit"], counties, years)


@pytest.mark.parametrize("chunk", [1, 3, 1000])
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_rows_a_chunk_at_a_time_are_the_rows_one_at_a_time(tmp_path, monkeypatch, chunk, kind):
    """Blank, unit, total and short rows, full-width text and commas, Excel numbers, many counties (the
    tally's limit), 万元 from a unit row: the chunked normaliser gives the rows and tally of the reference."""
    monkeypatch.setattr(normalise, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(normalise, "MAX_TALLY", 3)
    rows = incomes(12)
    for i, row in enumerate(rows):
        row["county_code"] = f"3308{i % 5:02d}"
    rows[1]["household_id"] = "  "
    rows[2]["household_id"] = "Ｈ０００　２"
    rows[3]["wage_income"] = "１，２３４"
    rows[4]["net_income"] = "1,234,567.5"
    rows[5]["household_id"] = None
    rows[6]["business_income"] = "12,3"
    lines = table(rows, "household_income")
    width = len(lines[0])
    units = [None] * width
    units[4] = "万元"
    data = [units, *lines[1:4], [None] * width, [], lines[4][:3], *lines[5:9], ["  合计", None, 5], ["\t小计"],
            [" "], *lines[9:], ["填表人：张三"]]
    if kind == "csv":
        path = write_csv(tmp_path / "f.csv", [lines[0], *data])
    else:
        data[1][5] = 1500.5
        data[2][9] = 330803196503020011.0
        path = write_xlsx(tmp_path / "f.xlsx", [("收入", [["衢江区2014年收入表"], lines[0], *data])])
    tbl = read.open_table(path)
    try:
        stream = RowStream(tbl, make_hasher("k"))
        got = list(stream.rows())
        t = stream.tally
        tally = (t.rows_read, t.blank, t.not_data, t.unit_rows, dict(t.counties), dict(t.years))
    finally:
        tbl.close()
    tbl = read.open_table(path)
    try:
        expected, expected_tally = reference_rows(tbl, "k")
    finally:
        tbl.close()
    assert got == expected and tally == expected_tally
    assert list(t.counties) == list(expected_tally[4])   # the same order: most_common breaks ties by it
    # "  合计" and 填表人 are not data; "\t小计" is (only a space may come before the words), " " is blank
    assert (t.unit_rows, t.not_data, t.blank, len(got)) == (1, 2, 3, 13)
    assert got[0][stream.columns.index("wage_income") + 1] == "30010000"   # 万元 from the unit row


def test_csv_with_a_thousand_columns_is_refused(tmp_path):
    path = write_csv(tmp_path / "wide.csv", [[f"c{i}" for i in range(1000)], ["1"] * 1000])
    err = rejected(path)
    assert err.code == "too_many_columns"
    assert err.reason == "表头有1000列，超过允许的200列，请只保留模板中的列后重新上报"


def test_csv_line_without_end_is_refused_not_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "MAX_LINE_CHARS", 1000)
    path = tmp_path / "long.csv"
    lines = [",".join(map(str, line)) for line in table(households(40), "households")]
    path.write_text("\n".join(lines) + "\n" + "x" * 5000, encoding="utf-8")
    tbl = read.open_table(path)
    with pytest.raises(FileRejected) as caught:
        list(tbl.data_rows())
    tbl.close()
    assert caught.value.code == "unreadable"


def test_empty_and_whitespace_files(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    assert rejected(empty).reason == "文件为空（0字节），请重新导出后上报"
    blank = tmp_path / "b.csv"
    blank.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    assert rejected(blank).reason == "文件中只有空格和空行，没有任何内容，请重新导出后上报"
    # blank lines first, the table after: read, not refused as blank
    late = tmp_path / "late.csv"
    late.write_bytes(b"\r\n" * 5000 + "县代码,年度\r\n".encode())
    assert rejected(late).code != "blank"


def test_undecodable_bytes(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(",".join(table(households(1), "households")[0]).encode() + b"\n\x80\x80\xff\xfe,1\n")
    assert rejected(path).code == "unreadable"


def test_text_without_a_template_header(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n1,2\n", encoding="utf-8")
    err = rejected(path)
    assert err.code == "no_template"
    assert err.reason == "未能识别报表类型：前30行中没有与任何上报模板相符的表头，请使用省里下发的模板填报"


# --- workbooks -----------------------------------------------------------------------------------

def test_xlsx_title_unit_row_blank_rows_total_and_numbers(tmp_path, xlsx_reader):
    lines = table(households(3), "households")
    lines[1][7] = 330803196503020011.0            # an ID number Excel stored as a number
    lines[2][8] = 2.0                              # an integer stored as a float
    sheet = [["衢江区2014年低收入农户登记表"], ["单位:户、人"], *lines[:2], [None] * 14, *lines[2:],
             ["合计", None, None, None, None, None, None, None, 6]]
    path = write_xlsx(tmp_path / "f.xlsx", [("登记表", sheet)], merges={"登记表": ["A1:N1"]})
    rs, out = stream(path)
    got = as_dicts(rs, out)
    assert [r["_source_row"] for r in got] == [4, 6, 7]
    assert got[0]["head_id_number"] == "3.3080319650302E+17"
    assert got[1]["household_size"] == "2" and got[0]["year"] == "2014"


def test_xlsx_data_sheet_is_not_the_first_and_explanation_sheet(tmp_path, xlsx_reader):
    path = write_xlsx(tmp_path / "f.xlsx", [
        ("填表说明", [["本表由县扶贫办汇总填报"], ["数据见第二个工作表"]]),
        ("上报说明", [["户数比上年减少，因整村搬迁"]]),
        ("Sheet3", table(incomes(2), "household_income")),
    ])
    tbl = read.open_table(path)
    try:
        assert tbl.sheet == "Sheet3"
        assert tbl.explanation == "户数比上年减少，因整村搬迁"
        assert tbl.match.template.name == "household_income"
    finally:
        tbl.close()


def test_xlsx_merged_two_row_header(tmp_path, xlsx_reader):
    head = table(incomes(2), "household_income")
    top = list(head[0])
    sub = [None] * len(top)
    for i in range(4, 8):
        sub[i], top[i] = top[i], ("收入构成" if i == 4 else None)
    sheet = [["标题"], top, sub, *head[1:]]
    merges = ["E2:H2"] + [f"{c}2:{c}3" for c in "ABCDIJKLMNOPQ"]
    rs, out = stream(write_xlsx(tmp_path / "f.xlsx", [("收入", sheet)], merges={"收入": merges}))
    assert [r[0] for r in out] == [4, 5]
    assert as_dicts(rs, out)[0]["wage_income"] == "3001"


def test_xlsx_wan_yuan_header_is_scaled(tmp_path, xlsx_reader):
    lines = table(villages(1), "villages", headers={"collective_operating_income": "村集体经营性收入（万元）"})
    lines[1][6] = 5.2001
    rs, out = stream(write_xlsx(tmp_path / "f.xlsx", [("村", lines)]))
    assert as_dicts(rs, out)[0]["collective_operating_income"] == "52001"


def test_binary_junk_named_xlsx(tmp_path):
    path = tmp_path / "junk.xlsx"
    path.write_bytes(os.urandom(4096).replace(b"PK", b"pk"))
    err = rejected(path)
    assert err.code == "not_a_workbook"
    assert err.reason == "文件扩展名是Excel，但内容不是Excel工作簿，请用Excel打开后另存为.xlsx再上报"


def test_truncated_workbook(tmp_path, xlsx_reader):
    good = write_xlsx(tmp_path / "good.xlsx", [("s", table(households(50), "households"))])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    err = rejected(cut)
    assert err.code == "unreadable"
    assert err.reason == "文件无法读取（工作簿已损坏或不完整），请用Excel重新导出为.xlsx或.csv后上报"


def test_zip_bomb_is_refused_from_the_directory(tmp_path, xlsx_reader):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            block = b"\0" * (1 << 20)
            for _ in range(200):                     # 200 MB of zeros, ~200 KB compressed
                entry.write(block)
    assert path.stat().st_size < 1_000_000
    err = rejected(path)
    assert err.code == "zip_bomb"
    assert err.reason.startswith("文件解压后的大小异常（压缩比超过150:1）")


def test_workbook_content_in_a_csv_name_is_read_as_a_workbook(tmp_path, xlsx_reader):
    xlsx = write_xlsx(tmp_path / "a.xlsx", [("s", table(households(2), "households"))])
    renamed = tmp_path / "a.csv"
    renamed.write_bytes(xlsx.read_bytes())
    rs, out = stream(renamed)
    assert rs.table.kind == "xlsx" and len(out) == 2


# --- names, reasons, feedback cells ----------------------------------------------------------------

def test_name_hints():
    assert recognise.hint_from_name("330803_household_income_2014.xlsx") == recognise.NameHint(
        "330803", None, 2014, "household_income")
    hint = recognise.hint_from_name("衢江区2014年低收入农户收入监测表.xlsx")
    assert (hint.county_code, hint.year, hint.template) == ("330803", 2014, "household_income")
    assert recognise.hint_from_name("全省指标2014.csv").county_code == "330000"
    assert recognise.hint_from_name("x.csv").group == "unknown"


def test_name_contradictions():
    hint = recognise.hint_from_name("330803_households_2013.csv")
    assert recognise.contradiction(hint, template="households", county_code=COUNTY, year=2014) == (
        "year_mismatch", {"name_year": 2013, "content_year": 2014})
    code, params = recognise.contradiction(recognise.hint_from_name("景宁畲族自治县2014年低收入农户登记表.csv"),
                                       template="households", county_code=COUNTY, year=2014)
    assert code == "name_contradicts_content"
    assert reason(code, **params) == ("文件名与文件内容不一致：文件名中的县是景宁畲族自治县，内容中的县代码是330803（衢江区），"
                                      "请核对后重新上报")
    assert recognise.contradiction(recognise.hint_from_name("anything.csv"), template="households",
                               county_code=COUNTY, year=2014) is None


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "..\\..\\x.csv", "a/../../b", "\n\t.csv", "..", ".",
                                  "x" * 500 + ".csv"])
def test_safe_names_never_leave_the_folder(tmp_path, name):
    safe = files.safe_name(name)
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and len(safe) <= files.MAX_NAME
    assert tmp_path.resolve() in files.inside(tmp_path, safe).parents
    with pytest.raises(ValueError):
        files.inside(tmp_path, "..", "x")


def test_display_name_of_non_utf8_bytes(tmp_path):
    gbk = tmp_path / os.fsdecode("衢江区2014.csv".encode("gbk"))
    gbk.write_text("x")
    assert files.display_name(gbk) == "衢江区2014.csv"
    junk = tmp_path / os.fsdecode(b"\xff\xfe\xfa.csv")
    junk.write_text("x")
    assert files.display_name(junk) == "\\xff\\xfe\\xfa.csv"


def test_reasons_shared_with_validation_carry_the_same_words():
    validation = yaml.safe_load((REASONS_FILE.parent / "validation.yaml").read_text(encoding="utf-8"))["rules"]
    for code in ("missing_column", "no_rows"):
        assert reason_table()[code] == validation[code]["reason"], code


def test_every_reason_formats():
    params = dict(detail="x", columns=1, limit=2, rows=3, column_zh="户编号", county_code="110101", name_year=1,
                  content_year=2, duplicate_of=4, label="备注")
    for code in reason_table():
        assert reason(code, **params)


@pytest.mark.parametrize("cell, safe", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-500", "'-500"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("正常", "正常"), (12, 12), (None, None),
])
def test_formula_injection_is_neutralised(cell, safe):
    assert neutralise(cell) == safe


def test_both_workbook_readers_give_the_same_rows(tmp_path, monkeypatch):
    lines = table(households(30), "households")
    lines[3][7] = 330803196503020011.0
    lines[4][8] = 2.0
    lines[5][2] = "A & B <村> _x000D_"
    lines[6][11] = dt.date(2013, 5, 1)
    lines[7][10] = True
    sheet = [["标题"], ["单位:户"], *lines[:10], [None] * 14, *lines[10:], ["合计"]]
    path = write_xlsx(tmp_path / "f.xlsx", [("说明", [["见下页"]]), ("数据", sheet)])
    calamine = stream(path)[1]
    monkeypatch.setattr(read, "STREAM_ABOVE", 0)
    streamed = stream(path)[1]
    assert streamed == calamine
    assert len(streamed) == 30


def test_streamed_reader_shared_strings_and_dates(tmp_path):
    """A workbook as Excel writes it: text in the shared-string table, dates as styled serial numbers."""
    from lowincome.xlsx_stream import Workbook

    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships><Relationship Id="rId1" Type="x" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/styles.xml", '<styleSheet><numFmts><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
                   '</numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="176"/></cellXfs></styleSheet>')
        z.writestr("xl/sharedStrings.xml", '<sst><si><t>县代码</t></si><si><r><t>年</t></r><r><t>度</t></r></si>'
                   '<si><t xml:space="preserve"> 樟潭 &amp; 街道 </t></si></sst>')
        z.writestr("xl/worksheets/sheet1.xml",
                   '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
                   '<row r="3" spans="1:4"><c r="A3" s="1"><v>41713</v></c><c r="B3" t="s"><v>2</v></c>'
                   '<c r="C3" s="2"><v>41714.5</v></c><c r="D3" t="b"><v>1</v></c><c r="E3"><f>1+1</f><v>2</v></c>'
                   '<c t="str" r="F3"><v>x</v></c><c r="G3" t="inlineStr"><is><r><t>a</t></r><r><t>&lt;b</t></r></is></c></row>'
                   '<row r="4"/><row r="5"><c r="B5" t="inlineStr"><is><t>a&amp;b</t></is></c></row></sheetData></worksheet>')
    with zipfile.ZipFile(path) as archive:
        book = Workbook(archive)
        assert book.sheets == [("数据", "xl/worksheets/sheet1.xml")]
        assert list(book.rows("xl/worksheets/sheet1.xml")) == [
            (1, ["县代码", None, "年度"]),
            (3, [dt.datetime(2014, 3, 15), " 樟潭 & 街道 ", dt.datetime(2014, 3, 16, 12), True, 2.0, "x", "a<b"]),
            (5, [None, "a&b"])]


def test_unit_row_under_the_header_sets_units_and_is_not_data(tmp_path, xlsx_reader):
    lines = table(villages(2), "villages")
    units = [None] * len(lines[0])
    units[6], units[8] = "万元", "（元）"
    lines[1][6] = 5.2
    sheet = [lines[0], units, *lines[1:]]
    rs, out = stream(write_xlsx(tmp_path / "f.xlsx", [("村", sheet)]))
    got = as_dicts(rs, out)
    assert [r["_source_row"] for r in got] == [3, 4]
    assert got[0]["collective_operating_income"] == "52000"
    assert got[0]["pairing_funds"] == "100000"
    assert rs.tally.unit_rows == 1 and rs.tally.rows_read == 2


def test_a_sheet_of_1048576_rows_mostly_formatted_blanks(tmp_path, xlsx_reader):
    """Excel's whole-column formatting: rows down to 1,048,576 that hold no value are not data."""
    from openpyxl.utils import get_column_letter

    lines = table(households(5), "households")
    path = tmp_path / "tall.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                   '<sheet name="登记表" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            for r, line in enumerate(lines, start=1):
                cells = "".join(f'<c r="{get_column_letter(i + 1)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                                for i, v in enumerate(line))
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())
            block = []
            for r in range(len(lines) + 1, 1_048_577):
                block.append(f'<row r="{r}" s="1" customFormat="1"/>')
                if len(block) == 50_000:
                    sheet.write("".join(block).encode())
                    block = []
            sheet.write(("".join(block) + "</sheetData></worksheet>").encode())
    rs, out = stream(path)
    assert len(out) == 5 and out[-1][0] == 6


def test_csv_with_every_cell_quoted_is_read(tmp_path):
    """Some exports quote every cell: under the other delimiters tried (tab, ';', '|') such a line is
    malformed, which must mean 'not this delimiter', not an unreadable file."""
    import csv

    path = tmp_path / "quoted.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        for line in table(households(3), "households"):
            writer.writerow(line)
    tbl = read.open_table(path)
    rows = list(tbl.data_rows())
    tbl.close()
    assert tbl.match.template.name == "households" and tbl.delimiter == ","
    assert [n for n, _cells in rows] == [2, 3, 4] and rows[0][1][5] == "H00001"


def test_csv_malformed_under_every_delimiter_is_unreadable(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('"县代码"x,"年度"\n1,2\n', encoding="utf-8")
    assert rejected(path).code == "unreadable"


def test_a_text_file_with_a_nul_byte_is_text_and_its_line_reads_as_damaged(tmp_path):
    """A county's CSV export with one damaged line (a NUL byte) is a text file; the NUL is read as U+FFFD,
    which validation rejects as that row's damaged_line (tests/integration/test_fault_catalogue.py)."""
    from lowincome.ingest.read import DAMAGED, damaged_text, sniff

    lines = table(households(3), "households")
    lines[2][6] = "张\x00三"
    for encoding in ("utf-8", "gb18030"):
        path = write_csv(tmp_path / f"nul-{encoding}.csv", lines, encoding=encoding)
        assert sniff(path) == "csv"
        table_ = read.open_table(path)
        try:
            rows = list(table_.data_rows())
        finally:
            table_.close()
        assert [n for n, cells in rows if any(DAMAGED in (c or "") for c in cells)] == [3]
    # binary content with NULs is still no text file
    assert not damaged_text(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    assert not damaged_text(b"a,b\x00\x00\x00\x00c\r\n")   # more than one NUL in a hundred bytes
    assert damaged_text(("县代码,年度\r\n" + "330803,2014\r\n" * 20 + "330803,20\x0014\r\n").encode("gb18030"))
