"""Every real-world fault of issue 3, built as a file and ingested for real: the exact outcome of each.

The files of one test share a landing folder on purpose: the broken ones sit beside good ones, and the
good ones still load (one bad file never stops the others).
"""

from __future__ import annotations

import os
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from fixtures.county_files import (
    COUNTY,
    YEAR,
    households,
    incomes,
    province,
    relocations,
    table,
    villages,
    write_csv,
    write_xlsx,
)
from fixtures.ingest_support import (
    accounting_holds,
    feedback_lines,
    ingest,
    rejected_rows,
    rows,
    submission,
    value,
)

ID_FORMAT = "“户主身份证号”格式不正确，应为18位（前17位为数字，最后一位为数字或X）"


def outcome_of(cfg, name: str) -> tuple:
    s = submission(cfg, name)
    return s["status"], s["reason_code"], s["rows_read"], s["rows_loaded"], s["rows_rejected"]


def test_encodings_and_layouts_all_load(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "utf8.csv", table(households(3), "households"))
    write_csv(land / "bom.csv", table(households(3, county="331127"), "households"), encoding="utf-8-sig")
    write_csv(land / "gbk.csv", table(relocations(2), "relocations"), encoding="gbk")
    hh = table(households(3, county="330802"), "households")
    write_xlsx(land / "title_unit_blank_total.xlsx", [("登记表", [
        ["柯城区2014年低收入农户登记表"], ["单位:户、人"], hh[0], hh[1], [None] * 14, [None] * 14, hh[2], hh[3],
        ["合计", None, None, None, None, None, None, None, 6], ["填表人：王五"]])])
    write_xlsx(land / "second_sheet.xlsx", [("填表说明", [["数据见第二个工作表"]]),
                                            ("数据", table(villages(2), "villages"))])
    write_csv(land / "province.csv", table(province(), "province_indicators"))
    outcomes = ingest(cfg)
    assert {n: (o.status, o.rows_read, o.rows_loaded, o.rows_rejected) for n, o in outcomes.items()} == {
        "utf8.csv": ("loaded", 3, 3, 0), "bom.csv": ("loaded", 3, 3, 0), "gbk.csv": ("loaded", 2, 2, 0),
        "title_unit_blank_total.xlsx": ("loaded", 3, 3, 0), "second_sheet.xlsx": ("loaded", 2, 2, 0),
        "province.csv": ("loaded", 1, 1, 0)}
    assert submission(cfg, "gbk.csv")["source_encoding"] == "gb18030"
    assert submission(cfg, "bom.csv")["source_encoding"] == "utf-8-sig"
    assert submission(cfg, "second_sheet.xlsx")["source_sheet"] == "数据"
    # the county's own row numbers: title, unit and header above, two blank rows in between
    assert [r["_source_row"] for r in rows(cfg, "select _source_row from raw.households where county_code = '330802' "
                                                "order by 1")] == [4, 7, 8]
    assert rows(cfg, "select relocation_type, move_date::text, homestead_reclaimed from raw.relocations "
                     "order by relocation_id") == [
        {"relocation_type": "高山远山", "move_date": "2014-05-01", "homestead_reclaimed": True},
        {"relocation_type": "高山远山", "move_date": "2014-05-02", "homestead_reclaimed": True}]
    assert rows(cfg, "select county_code, year, benchmark_rate_pct from raw.province_indicators") == [
        {"county_code": "330000", "year": 2014, "benchmark_rate_pct": Decimal("5.6000")}]
    assert list(cfg.landing_dir.iterdir()) == []
    accounting_holds(cfg)


def test_merged_header_wan_yuan_and_full_width(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "hh.csv", table(households(2), "households"))
    ingest(cfg)
    head = table(incomes(2), "household_income")
    top, sub = list(head[0]), [None] * len(head[0])
    for i in range(4, 8):
        sub[i], top[i] = top[i], ("收入构成" if i == 4 else None)
    write_xlsx(land / "衢江区2014年低收入农户收入监测表.xlsx", [("监测表", [["衢江区2014年低收入农户收入监测表"], top, sub,
                                                                         *head[1:]])],
               merges={"监测表": ["A1:Q1", "E2:H2"] + [f"{c}2:{c}3" for c in "ABCDIJKLMNOPQ"]})
    vil = table(villages(2), "villages", headers={"collective_operating_income": "村集体经营性收入（万元）",
                                                   "pairing_funds": "帮扶资金(元)"})
    vil[1][6], vil[2][6] = "5.2", 0.35
    write_xlsx(land / "villages.xlsx", [("村", vil)])
    full = households(1, start=3)
    # Another year: the same county-year would supersede the register the income file is checked against.
    full[0].update(year="２０１５", village_code="３３０８０３１０１２０３", household_size="４", household_id="Ｈ００００３",
                   township_name="樟潭街道（东）")
    write_csv(land / "fullwidth.csv", table(full, "households", headers={"household_size": "家庭人口（人）"}))
    outcomes = ingest(cfg)
    assert outcomes["衢江区2014年低收入农户收入监测表.xlsx"].status == "loaded"
    assert outcomes["衢江区2014年低收入农户收入监测表.xlsx"].rows_loaded == 2
    assert value(cfg, "select min(_source_row) from raw.household_income") == 4
    assert [r["collective_operating_income"] for r in rows(
        cfg, "select collective_operating_income from raw.villages order by village_code")] == [
        Decimal("52000.00"), Decimal("3500.00")]
    assert rows(cfg, "select village_code, household_size, household_id, township_name from raw.households "
                     "where household_id = 'H00003'") == [
        {"village_code": "330803101203", "household_size": 4, "household_id": "H00003",
         "township_name": "樟潭街道(东)"}]
    accounting_holds(cfg)


def test_id_numbers_excel_stored_as_numbers_are_rejected_rows(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    # one bad row in six: under validation's 20% share that rejects a whole file
    xlsx = table(households(6), "households")
    xlsx[2][7] = float(xlsx[2][7])                        # the numeric cell Excel keeps
    write_xlsx(land / "330803_households_2014.xlsx", [("登记表", xlsx)])
    csv_rows = households(6, county="331127")
    csv_rows[3]["head_id_number"] = "3.31127E+17"        # what Excel writes back into a CSV
    write_csv(land / "331127_households_2014.csv", table(csv_rows, "households"))
    outcomes = ingest(cfg)
    for name, bad_row in (("330803_households_2014.xlsx", 3), ("331127_households_2014.csv", 5)):
        o = outcomes[name]
        assert (o.status, o.rows_read, o.rows_loaded, o.rows_rejected) == ("loaded", 6, 5, 1)
        [bad] = rejected_rows(cfg, o.submission_id)
        assert (bad["row_number"], bad["column_name"], bad["rule"], bad["reason"]) == (
            bad_row, "head_id_number", "pattern", ID_FORMAT)
        assert "head_id_number" not in bad["raw_values"] and "head_name" not in bad["raw_values"]
        assert bad["raw_values"]["household_id"]
        lines = feedback_lines(cfg, name)
        assert lines[0] == ["文件名", "行号", "列名", "填报值", "问题说明", "处理结果"]
        assert [str(bad_row), "户主身份证号", "", ID_FORMAT, "该行退回"] == lines[2][1:]
    assert value(cfg, "select count(*) from raw.households where head_id_number like '%E+%'") == 0
    accounting_holds(cfg)


STRUCTURAL = {
    # file: (status, reason_code, rows_read, rows_loaded, rows_rejected, Chinese reason)
    "empty.csv": ("rejected", "empty", 0, 0, 0, "文件为空（0字节），请重新导出后上报"),
    "junk.xlsx": ("rejected", "not_a_workbook", 0, 0, 0,
                  "文件扩展名是Excel，但内容不是Excel工作簿，请用Excel打开后另存为.xlsx再上报"),
    "truncated.xlsx": ("rejected", "unreadable", 0, 0, 0,
                       "文件无法读取（工作簿已损坏或不完整），请用Excel重新导出为.xlsx或.csv后上报"),
    "bomb.xlsx": ("rejected", "zip_bomb", 0, 0, 0,
                  "文件解压后的大小异常（压缩比超过150:1），疑似损坏或恶意文件，已拒收；请重新导出后上报"),
    "wide.csv": ("rejected", "too_many_columns", 0, 0, 0, "表头有1000列，超过允许的200列，请只保留模板中的列后重新上报"),
    "notes.csv": ("rejected", "no_template", 0, 0, 0,
                  "未能识别报表类型：前30行中没有与任何上报模板相符的表头，请使用省里下发的模板填报"),
    "header_only.csv": ("rejected", "no_rows", 0, 0, 0, "文件中没有数据行，请填写数据后重新上报"),
    "good.csv": ("loaded", None, 3, 3, 0, None),
}


def _structural_files(land: Path) -> None:
    (land / "empty.csv").write_bytes(b"")
    (land / "junk.xlsx").write_bytes(os.urandom(4096).replace(b"PK", b"pk"))
    good = write_xlsx(land.parent / "whole.xlsx", [("s", table(households(50), "households"))])
    (land / "truncated.xlsx").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with zipfile.ZipFile(land / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(200):
                entry.write(b"\0" * (1 << 20))
    write_csv(land / "wide.csv", [[f"列{i}" for i in range(1000)], ["1"] * 1000])
    write_csv(land / "notes.csv", [["通知"], ["请于月底前上报"]])
    write_csv(land / "header_only.csv", table([], "households"))
    write_csv(land / "good.csv", table(households(3), "households"))


def test_structural_junk_each_gets_a_clear_ledger_entry(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    land.mkdir(parents=True)
    _structural_files(land)
    outcomes = ingest(cfg)
    got = {n: (o.status, o.reason_code, o.rows_read, o.rows_loaded, o.rows_rejected, o.reason)
           for n, o in outcomes.items()}
    assert got == STRUCTURAL
    for name, expected in STRUCTURAL.items():
        sub = submission(cfg, name)
        if expected[0] == "rejected":
            quarantined = cfg.quarantine_dir / f"{sub['sha256'][:12]}_{name}"
            assert quarantined.read_bytes() == Path(sub["archive_path"]).read_bytes()
            note = Path(str(quarantined) + ".reason.txt").read_text(encoding="utf-8")
            assert expected[1] in note and expected[5] in note
            assert feedback_lines(cfg, name)[1][4] == expected[5]
    assert list(land.iterdir()) == []
    accounting_holds(cfg)


CONTENT = {
    "missing_column.csv": ("rejected", "missing_column", 3, 0, 3,
                           "缺少必填列“是否低保户”，请按模板补齐该列后重新上报"),
    "110101_villages_2014.csv": ("rejected", "county_out_of_scope", 2, 0, 2,
                                 "县代码“110101”不在本次监测的县（市、区）范围内，请核对县代码后重新上报"),
    "330803_households_2013.csv": ("rejected", "year_mismatch", 3, 0, 3,
                                   "文件名中的年度（2013）与文件内容中的年度（2014）不一致，请核对后重新上报"),
    "景宁畲族自治县2014年低收入农户登记表.csv": (
        "rejected", "name_contradicts_content", 3, 0, 3,
        "文件名与文件内容不一致：文件名中的县是景宁畲族自治县，内容中的县代码是330803（衢江区），请核对后重新上报"),
    "330803_villages_2014.csv": (
        "rejected", "name_contradicts_content", 3, 0, 3,
        "文件名与文件内容不一致：文件名是“扶贫重点村与经济薄弱村台账”，内容是“低收入农户登记表”，请核对后重新上报"),
    "no_year.csv": ("rejected", "no_year", 2, 0, 2,
                    "未能确定文件所属年度：“年度”列为空或不是四位年份，请填写年度后重新上报"),
}


def test_content_decides_and_contradictions_are_rejected(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    cols = [c for c in households(1)[0] if c != "is_dibao"]
    write_csv(land / "missing_column.csv", table(households(3), "households", columns=cols))
    out_of_scope = villages(2, county="110101")
    write_csv(land / "110101_villages_2014.csv", table(out_of_scope, "villages"))
    write_csv(land / "330803_households_2013.csv", table(households(3), "households"))
    write_csv(land / "景宁畲族自治县2014年低收入农户登记表.csv", table(households(3, start=10), "households"))
    write_csv(land / "330803_villages_2014.csv", table(households(3, start=20), "households"))
    no_year = households(2, start=30)
    for r in no_year:
        r["year"] = None
    write_csv(land / "no_year.csv", table(no_year, "households"))
    write_csv(land / "good.csv", table(households(2, start=40), "households"))
    outcomes = ingest(cfg)
    for name, expected in CONTENT.items():
        o = outcomes[name]
        assert (o.status, o.reason_code, o.rows_read, o.rows_loaded, o.rows_rejected, o.reason) == expected, name
    assert outcomes["good.csv"].status == "loaded"
    # a file rejected as a whole lists every row, with the file's reason, so nothing is lost
    sid = outcomes["missing_column.csv"].submission_id
    assert [(r["row_number"], r["rule"]) for r in rejected_rows(cfg, sid)] == [
        (2, "missing_column"), (3, "missing_column"), (4, "missing_column")]
    assert value(cfg, "select count(*) from raw.households") == 2
    assert submission(cfg, "110101_villages_2014.csv")["county_code"] == "110101"
    assert (cfg.feedback_dir / "110101").is_dir()
    accounting_holds(cfg)


def test_unknown_columns_are_ignored_and_named_in_the_feedback(empty_warehouse):
    cfg = empty_warehouse
    lines = table(households(2), "households")
    lines[0] += ["备注", "=1+1"]
    for line in lines[1:]:
        line += ["无", "x"]
    write_csv(cfg.landing_dir / "extra.csv", lines)
    o = ingest(cfg)["extra.csv"]
    assert (o.status, o.rows_loaded, o.rows_warned) == ("loaded", 2, 0)
    assert rows(cfg, "select row_number, column_name, rule, reason from ops.row_warnings order by id") == [
        {"row_number": 1, "column_name": "备注", "rule": "unknown_column", "reason": "表头“备注”不是模板中的列，该列已忽略"},
        {"row_number": 1, "column_name": "=1+1", "rule": "unknown_column", "reason": "表头“=1+1”不是模板中的列，该列已忽略"}]
    fed = feedback_lines(cfg, "extra.csv")
    assert fed[2][1:3] == ["1", "备注"]
    assert fed[3][2] == "'=1+1"                         # formula injection neutralised
    assert fed[3][4] == "表头“=1+1”不是模板中的列，该列已忽略"   # text that does not start a formula is left alone


def test_odd_file_names_and_path_traversal(empty_warehouse, tmp_path):
    cfg = empty_warehouse
    land = cfg.landing_dir
    land.mkdir(parents=True)
    names = ["..\\..\\..\\evil.csv", "衢江区 2014年 登记表 (最终版)!!.csv", "\n\t.csv", "-rf .csv",
             os.fsdecode("景宁2014登记表".encode("gbk") + b".csv"), os.fsdecode(b"\xff\xfe.csv")]
    for i, name in enumerate(names):
        write_csv(land / name, table(households(2, start=10 * i + 1, county="331127" if i == 4 else COUNTY),
                                     "households"))
    bad = households(1, start=99)
    bad[0]["county_code"] = "../../../../tmp/evil"
    write_csv(land / "traversal_in_content.csv", table(bad, "households"))
    before = {p for p in Path(cfg.data_dir).parent.rglob("*")}
    outcomes = ingest(cfg)
    assert len(outcomes) == 7
    assert outcomes["..\\..\\..\\evil.csv"].status == "loaded"
    assert outcomes["景宁2014登记表.csv"].status == "loaded"         # GBK bytes of a Windows zip, shown readable
    assert outcomes["\\xff\\xfe.csv"].status == "loaded"
    traversal = outcomes["traversal_in_content.csv"]
    assert (traversal.status, traversal.reason_code) == ("rejected", "county_out_of_scope")
    created = {p for p in Path(cfg.data_dir).parent.rglob("*")} - before
    data = Path(cfg.data_dir).resolve()
    assert created and all(data in p.resolve().parents for p in created), "nothing is written outside $DATA"
    assert (cfg.feedback_dir / "unknown").is_dir()
    assert not Path("/tmp/evil").exists()
    assert list(land.iterdir()) == []
    accounting_holds(cfg)


def test_explanation_sidecar_is_stored_and_cleared(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "330803_households_2014.csv", table(households(2), "households"))
    (land / "330803_households_2014.上报说明.txt").write_text("今年整村搬迁，户数减少。", encoding="gbk")
    outcomes = ingest(cfg)
    assert list(outcomes) == ["330803_households_2014.csv"]
    assert submission(cfg, "330803_households_2014.csv")["explanation"] == "今年整村搬迁，户数减少。"
    assert list(land.iterdir()) == []


@pytest.mark.slow
def test_a_long_file_streams_through(empty_warehouse):
    cfg = empty_warehouse
    n = 30_000
    write_csv(cfg.landing_dir / "long.csv", table(households(n), "households"))
    o = ingest(cfg)["long.csv"]
    assert (o.status, o.rows_read, o.rows_loaded, o.rows_rejected) == ("loaded", n, n, 0)
    assert value(cfg, "select max(_source_row) from raw.households") == n + 1
    assert YEAR == value(cfg, "select min(year) from raw.households")


@pytest.mark.parametrize("streamed", [False, True])
def test_a_nul_character_in_a_workbook_rejects_it_as_unreadable(empty_warehouse, monkeypatch, streamed):
    """OOXML escapes a NUL as _x0000_; PostgreSQL text cannot hold one, and the (binary) COPY refuses it:
    the file is rejected with a reason, nothing of it is loaded."""
    from lowincome.ingest import read

    if streamed:
        monkeypatch.setattr(read, "STREAM_ABOVE", 0)
    cfg = empty_warehouse
    found = households(3, county="330881")
    found[1]["village_name"] = "第1_x0000_村"
    name = "330881_households_2014.xlsx"
    write_xlsx(cfg.landing_dir / name, [("登记表", table(found, "households"))])
    outcome = ingest(cfg)[name]
    assert (outcome.status, outcome.reason_code, outcome.rows_loaded) == ("rejected", "unreadable", 0)
    assert "空字符" in outcome.reason
    assert value(cfg, "select count(*) from raw.households") == 0
    accounting_holds(cfg)
