"""The fault catalogue (issue 8, "Bad input gets a clear answer"): every bad input a county can send,
built as a real file, ingested for real, and the exact answer the county gets.

All files land in ONE folder and are ingested ONCE (a module-scoped warehouse of their own); one test per
case then reads that file's ledger row (``ops.submissions``), its rejected rows (``ops.rejected_rows``),
its warnings (``ops.row_warnings``) and the feedback file the county receives, and compares each with
the exact Chinese text of ``include/config/file_reasons.yaml`` / ``validation.yaml`` as rendered.

Every file that loads has a county/template/year of its own, so no file supersedes another. The
household registers that the income and programme files are checked against (cross-file rules) are
themselves catalogue cases: a household whose register row was rejected is not in the register.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fixtures.county_files import (
    YEAR,
    households,
    id_number,
    incomes,
    province,
    relocations,
    table,
    villages,
    write_csv,
    write_xlsx,
)
from fixtures.ingest_support import accounting_holds, feedback_lines, ingest, rejected_rows, rows, submission
from psycopg import sql

TEMPLATES = ("households", "household_income", "relocations", "program_participation", "villages",
             "county_indicators", "province_indicators", "project_funds")

# --- row builders for the templates county_files.py has none for ----------------------------------


def programmes(ids: list[int], county: str, year: int = YEAR) -> list[dict[str, Any]]:
    return [{"county_code": county, "year": year, "household_id": f"H{i:05d}", "program": "技能培训", "persons": 1,
             "program_income": 1200.0, "loan_amount": None, "loan_rate_pct": None, "repaid_on_time": None,
             "interest_subsidy": None} for i in ids]


def microcredit(row: dict[str, Any], rate: float = 6.0) -> dict[str, Any]:
    return {**row, "program": "小额贷款", "loan_amount": 50000.0, "loan_rate_pct": rate, "repaid_on_time": "是",
            "interest_subsidy": 1000.0}


def indicators(county: str, year: int = YEAR) -> list[dict[str, Any]]:
    return [{"county_code": county, "year": year, "rural_per_capita_net_income": 12000.0, "dibao_standard": 5000.0,
             "dibao_min_topup": 3000.0, "tech_demo_industries": 5, "processing_workers": 100,
             "processing_fees": 500000.0, "new_mutual_aid_funds": 2, "microcredit_guarantee_fund": 1000000.0,
             "microcredit_loans_outstanding": 2000000.0, "housing_need_households": 50,
             "housing_aided_households": 30, "rural_road_km": 12.5, "village_bus_access_pct": 95.0,
             "water_safety_people": 3000, "rural_edu_med_share_pct": 20.0}]


def projects(n: int, county: str, year: int = YEAR) -> list[dict[str, Any]]:
    """County-wide projects (no village: the optional column is blank), announced in March, half paid."""
    return [{"county_code": county, "year": year, "project_id": f"XM{year}{i:03d}", "project_name": f"产业扶贫项目{i}",
             "project_type": "产业发展", "village_code": None, "fund_source": "省级", "amount_allocated": 100000.0,
             "amount_disbursed": 50000.0, "beneficiary_households": 20, "announced_on": f"{year}-03-01",
             "announcement_ends_on": f"{year}-03-08"} for i in range(1, n + 1)]


def income_rows(ids: list[int], county: str) -> list[dict[str, Any]]:
    return [incomes(1, county=county, start=i)[0] for i in ids]


def spoil(found: list[dict[str, Any]], index: int, **values: Any) -> list[dict[str, Any]]:
    found[index].update(values)
    return found


def csv_of(found: list[dict[str, Any]], tpl: str, **kw: Any) -> Callable[[Path], Any]:
    return lambda path: write_csv(path, table(found, tpl, **kw))


def xlsx_of(lines: list[list[Any]], sheet: str = "数据") -> Callable[[Path], Any]:
    return lambda path: write_xlsx(path, [(sheet, lines)])


def raw_bytes(data: bytes) -> Callable[[Path], Any]:
    return lambda path: path.write_bytes(data)


# --- structural junk ------------------------------------------------------------------------------


def _truncated(path: Path) -> None:
    whole = write_xlsx(path.with_name("_whole.xlsx"), [("s", table(households(50), "households"))])
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()


def _bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(200):
                entry.write(b"\0" * (1 << 20))


def _many_entries(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for i in range(2001):
            archive.writestr(f"xl/media/image{i}.bin", b"x")


def _ole_junk(path: Path) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 32)


def _undecodable(path: Path) -> None:
    text = "\r\n".join(",".join("" if v is None else str(v) for v in line)
                       for line in table(households(3), "households"))
    data = text.encode("utf-8")
    path.write_bytes(data.replace("第2村".encode(), b"\x80\xff\x80"))


def _long_line(path: Path) -> None:
    lines = table(households(3), "households")
    lines[2][4] = "村" * 1_100_000
    write_csv(path, lines)


def _long_field(path: Path) -> None:
    lines = table(villages(3, county="330783"), "villages")
    lines[2][3] = "村" * 200_000
    write_csv(path, lines)


def _huge_xlsx_cell(path: Path) -> None:
    found = villages(6, county="330723")
    found[2]["village_name"] = "村" * 3_500_000    # far beyond Excel's own 32,767: a hand-made workbook
    write_xlsx(path, [("村", table(found, "villages"))])


def _field_over_reader_limit(path: Path) -> None:
    lines = table(villages(3, county="330726"), "villages")
    lines[2][3] = "\n".join(["x" * 400_000] * 3)   # a quoted cell over three lines, each under the line cap
    write_csv(path, lines)


def _unclosed_quote(path: Path) -> None:
    write_csv(path, table(households(10, county="330784"), "households"))
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[8] = lines[8].replace("樟潭街道", '"樟潭街道', 1)    # line 9: a quote that never closes
    path.write_bytes("\r\n".join(lines).encode("utf-8"))


def _nul_far_down(path: Path) -> None:
    found = households(120, county="330902")
    found[-1]["village_name"] = "第120\x00村"
    write_csv(path, table(found, "households"))
    assert path.stat().st_size > 8192         # past the first block the sniffer looks at


def _nul_near_the_top(path: Path) -> None:
    """A county's GBK export with one damaged line: a NUL byte in the first block the sniffer looks at."""
    found = households(10, county="330122")
    found[2]["village_name"] = "第3\x00村"
    write_csv(path, table(found, "households"), encoding="gb18030")
    assert path.read_bytes().count(b"\x00") == 1 and path.stat().st_size < 8192


def _header_below_scan(path: Path) -> None:
    write_csv(path, [[f"说明第{i}行"] for i in range(1, 31)] + table(villages(3, county="330903"), "villages"))


def _tall_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in table(households(6, county="330382"), "households"):
        sheet.append(line)
    sheet.cell(row=200_000, column=16, value="x")   # a stray cell far below and beside the table
    book.save(path)


def _wide_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in table(households(6, county="330402"), "households"):
        sheet.append(line)
    sheet.cell(row=3, column=16_384, value="离表很远的备注")   # column XFD, the last Excel has
    book.save(path)


def _formula_xlsx(path: Path) -> None:
    lines = table(households(6, county="330381"), "households")
    lines[3][6] = "=A1&B1"                          # a formula without a cached value: no name
    lines[5][4] = '=HYPERLINK("http://evil.example","点击")'   # optional village name
    write_xlsx(path, [("登记表", lines)])


def _id_as_number_xlsx(path: Path) -> None:
    lines = table(households(6, county="330304"), "households")
    lines[3][7] = float(lines[3][7])                # Excel's 3.30304196503020E+17: the last digits are gone
    write_xlsx(path, [("登记表", lines)])


# --- expected answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    template: str                      # the template the fault is about
    file: str
    write: Callable[[Path], Any]
    status: str
    code: str | None
    counts: tuple[int, int, int]        # rows_read, rows_loaded, rows_rejected
    reason: str | None = None           # ops.submissions.reason (file level)
    bad: dict[int, tuple[str | None, str, str]] = field(default_factory=dict)   # row -> column, rule, reason
    warns: tuple[tuple[int | None, str | None, str, str], ...] = ()               # row, column, rule, reason
    bug: str | None = None              # a product bug: the case is xfail(strict) until it is fixed
    original: str | None = None         # a duplicate: the file it copies (its id fills {original} in reason)


def unreadable(detail: str) -> str:
    return f"文件无法读取（{detail}），请用Excel重新导出为.xlsx或.csv后上报"


def too_many(bad: int, total: int) -> str:
    return f"有{bad}行（共{total}行，占{round(100 * bad / total, 1)}%）未通过校验，超过20%，整个文件退回，请核对后重新上报"


ID_PATTERN = "“户主身份证号”格式不正确，应为18位（前17位为数字，最后一位为数字或X）"
HH_ID_PATTERN = "“户编号”格式不正确，应为1至32位字母、数字、下划线或连字符"
BOMB = "文件解压后的大小异常（{}），疑似损坏或恶意文件，已拒收；请重新导出后上报"
NOT_IN_REGISTER = "户编号不在本县本年度的低收入农户登记表中"
SQL_TEXT = "'); drop table raw.households; --"
SQL_LABEL = "备注'); drop table ops.submissions; --"
FORMULA = "=cmd|' /C calc'!A0"
ALL_IDS = [1, 2, 3, 4, 5, 6]
TRAVERSAL_OK = "..\\..\\..\\330802_villages_2014.csv"          # a Windows zip's entry name, kept as a name
TRAVERSAL_BAD = "..\\..\\..\\..\\etc\\cron.d\\evil.csv"
CONTROL_NAME = "\x1b[31m330825_relocations_2014\x07\r.csv"
DAMAGED_LINE = "该行已损坏（含有空字符等无法识别的内容），未入库，请核对该行后重新上报"
LONG_NAME = "衢" * 83 + ".csv"                 # 253 bytes of UTF-8: legal, longer than any name we wrote
DUPLICATE = "该文件与已接收的文件（接收编号{original}）内容完全相同，已按重复文件登记，无需再次上报"
NOT_A_WORKBOOK = "文件扩展名是Excel，但内容不是Excel工作簿，请用Excel打开后另存为.xlsx再上报"
JUNK = raw_bytes(bytes(range(256)).replace(b"PK", b"pk") * 16)
SQL_REGISTER = csv_of(spoil(households(6, county="330482"), 1, village_name=SQL_TEXT, township_name="乡'; --"),
                      "households")
TERMINAL_NAME = "\x1b[2J\x1b]0;pwned\x07330727_households_2014\n330727  loaded\u202evsc.csv"
TOO_LONG_VILLAGE = "“行政村”内容过长（超过200个字符），请核对后重新填写"


def without(*ids: int) -> list[int]:
    return [i for i in ALL_IDS if i not in ids]


def _dup_key_rows() -> list[dict[str, Any]]:
    found = households(10, county="330305")
    found[6]["household_id"] = "H00002"
    return found


CASES: list[Case] = [
    # --- structural junk and encodings: refused before any row is read --------------------------------
    Case("empty-0-bytes", "households", "330104_households_2014.csv", raw_bytes(b""),
         "rejected", "empty", (0, 0, 0), "文件为空（0字节），请重新导出后上报"),
    Case("whitespace-only", "villages", "330106_villages_2014.csv", raw_bytes(b"\r\n   \r\n\t\r\n" * 10),
         "rejected", "blank", (0, 0, 0), "文件中只有空格和空行，没有任何内容，请重新导出后上报"),
    Case("random-bytes-named-xlsx", "relocations", "330108_relocations_2014.xlsx", JUNK,
         "rejected", "not_a_workbook", (0, 0, 0), NOT_A_WORKBOOK),
    # a copy of a rejected file is checked again and told again, never "identical, no need to resend"
    Case("rejected-file-sent-again", "relocations", "330108_relocations_2014_再次上报.xlsx", JUNK,
         "rejected", "not_a_workbook", (0, 0, 0), NOT_A_WORKBOOK),
    # a name of 253 bytes: the quarantine copy and the feedback get names that fit the filesystem
    Case("long-legal-name-253-bytes", "households", LONG_NAME, raw_bytes(b""),
         "rejected", "empty", (0, 0, 0), "文件为空（0字节），请重新导出后上报"),
    Case("binary-named-csv", "program_participation", "330109_program_participation_2014.csv",
         raw_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8),
         "rejected", "unreadable", (0, 0, 0), unreadable("不是文本文件，也不是Excel工作簿")),
    Case("truncated-xlsx", "county_indicators", "330110_county_indicators_2014.xlsx", _truncated,
         "rejected", "unreadable", (0, 0, 0), unreadable("工作簿已损坏或不完整")),
    Case("zip-bomb-ratio-xlsx", "household_income", "330111_household_income_2014.xlsx", _bomb,
         "rejected", "zip_bomb", (0, 0, 0), BOMB.format("压缩比超过150:1")),
    Case("zip-bomb-entries-xlsx", "province_indicators", "全省指标_2014.xlsx", _many_entries,
         "rejected", "zip_bomb", (0, 0, 0), BOMB.format("2001个压缩条目")),
    Case("ole-junk-xls", "villages", "330127_villages_2014.xls", _ole_junk,
         "rejected", "unreadable", (0, 0, 0), unreadable("工作簿已损坏或格式无法识别")),
    Case("not-utf8-not-gbk", "households", "330182_households_2014.csv", _undecodable,
         "rejected", "unreadable", (0, 0, 0), unreadable("文字编码无法识别，请保存为UTF-8或GBK编码的CSV")),
    Case("utf16-without-bom", "villages", "330185_villages_2014.csv",
         lambda p: p.write_bytes("\r\n".join(",".join(str(v) for v in line) for line in
                                             table(villages(2, county="330185"), "villages")).encode("utf-16-le")),
         "rejected", "unreadable", (0, 0, 0), unreadable("不是文本文件，也不是Excel工作簿")),
    Case("line-over-1MiB", "households", "330205_households_2014.csv", _long_line,
         "rejected", "unreadable", (0, 0, 0), unreadable("有一行超过1048576个字符")),
    # a cell of 200,000 characters: past the csv module's default field limit, read, its row rejected
    Case("field-over-csv-limit", "villages", "330783_villages_2014.csv", _long_field,
         "rejected", "too_many_bad_rows", (3, 0, 3), too_many(1, 3),
         bad={3: ("village_name", "too_long", TOO_LONG_VILLAGE)}),
    Case("xlsx-cell-of-3.5M-characters", "villages", "330723_villages_2014.xlsx", _huge_xlsx_cell,
         "loaded", None, (6, 5, 1), bad={4: ("village_name", "too_long", TOO_LONG_VILLAGE)}),
    Case("quoted-field-over-reader-limit", "villages", "330726_villages_2014.csv", _field_over_reader_limit,
         "rejected", "unreadable", (0, 0, 0), unreadable("第3行有单元格超过1048576个字符")),
    Case("unclosed-quote-swallows-rows", "households", "330784_households_2014.csv", _unclosed_quote,
         "rejected", "unreadable", (0, 0, 0), unreadable("第9行CSV格式错误")),
    # a text file with a damaged line (a NUL byte): that row is rejected with its reason, the rest loads
    Case("nul-character-after-8KiB", "households", "330902_households_2014.csv", _nul_far_down,
         "loaded", None, (120, 119, 1), bad={121: (None, "damaged_line", DAMAGED_LINE)}),
    Case("nul-byte-in-a-gbk-export", "households", "330122_households_2014.csv", _nul_near_the_top,
         "loaded", None, (10, 9, 1), bad={4: (None, "damaged_line", DAMAGED_LINE)}),
    Case("no-template-notice", "county_indicators", "县级扶贫指标表_通知.csv",
         lambda p: write_csv(p, [["关于报送2014年指标的通知"], ["请于月底前上报"], ["联系人：李四"]]),
         "rejected", "no_template", (0, 0, 0),
         "未能识别报表类型：前30行中没有与任何上报模板相符的表头，请使用省里下发的模板填报"),
    Case("header-below-row-30", "villages", "330903_villages_2014.csv", _header_below_scan,
         "rejected", "no_template", (0, 0, 0),
         "未能识别报表类型：前30行中没有与任何上报模板相符的表头，请使用省里下发的模板填报"),
    Case("header-only", "county_indicators", "330921_county_indicators_2014.csv",
         lambda p: write_csv(p, table([], "county_indicators")),
         "rejected", "no_rows", (0, 0, 0), "文件中没有数据行，请填写数据后重新上报"),
    Case("only-total-and-signature", "relocations", "330922_relocations_2014.csv",
         lambda p: write_csv(p, table([], "relocations") + [["合计", "", "", "", "", "", "", "", 12],
                                                            ["填表人：王五", "", "联系电话：0570-1234567"]]),
         "rejected", "no_rows", (0, 0, 0), "文件中没有数据行，请填写数据后重新上报"),
    Case("1000-columns-csv", "household_income", "331002_household_income_2014.csv",
         lambda p: write_csv(p, [[f"列{i}" for i in range(1000)], ["1"] * 1000]),
         "rejected", "too_many_columns", (0, 0, 0), "表头有1000列，超过允许的200列，请只保留模板中的列后重新上报"),

    # --- headers and file identity: read, then refused as a whole (every row listed) ------------------
    Case("missing-one-column", "villages", "331003_villages_2014.csv",
         csv_of(villages(3, county="331003"), "villages",
                columns=[c for c in villages(1)[0] if c != "is_weak_village"]),
         "rejected", "missing_column", (3, 0, 3), "缺少必填列“是否经济薄弱村”，请按模板补齐该列后重新上报"),
    Case("missing-two-columns", "relocations", "331004_relocations_2014.csv",
         csv_of(relocations(2, county="331004"), "relocations",
                columns=[c for c in relocations(1)[0] if c not in ("relocation_type", "settlement_type")]),
         "rejected", "missing_column", (2, 0, 2), "缺少必填列“搬迁类型”、“安置方式”，请按模板补齐该列后重新上报"),
    Case("county-out-of-scope", "households", "households_2014_out_of_scope.csv",
         csv_of(households(3, county="110101"), "households"),
         "rejected", "county_out_of_scope", (3, 0, 3),
         "县代码“110101”不在本次监测的县（市、区）范围内，请核对县代码后重新上报"),
    Case("county-column-blank", "villages", "villages_2014_no_county.csv",
         csv_of([{**r, "county_code": None} for r in villages(3, county="331021")], "villages"),
         "rejected", "no_county", (3, 0, 3), "未能确定文件所属县：“县代码”列为空，请填写县代码后重新上报"),
    Case("name-says-other-template", "program_participation", "331022_county_indicators_2014.csv",
         csv_of(programmes(ALL_IDS, "331022"), "program_participation"),
         "rejected", "name_contradicts_content", (6, 0, 6),
         "文件名与文件内容不一致：文件名是“县级扶贫指标表”，内容是“帮扶项目台账”，请核对后重新上报"),
    Case("name-says-other-year", "province_indicators", "全省指标_2013.csv",
         csv_of(province(), "province_indicators", style="en"),
         "rejected", "year_mismatch", (1, 0, 1),
         "文件名中的年度（2013）与文件内容中的年度（2014）不一致，请核对后重新上报"),
    Case("name-says-other-county", "relocations", "331023_relocations_2014.csv",
         csv_of(relocations(2, county="331024"), "relocations"),
         "rejected", "name_contradicts_content", (2, 0, 2),
         "文件名与文件内容不一致：文件名中的县代码是331023，内容中的县代码是331024，请核对后重新上报"),
    Case("path-traversal-name-loads", "villages", TRAVERSAL_OK, csv_of(villages(3, county="330802"), "villages"),
         "loaded", None, (3, 3, 0)),
    Case("path-traversal-name-rejected", "county_indicators", TRAVERSAL_BAD,
         lambda p: write_csv(p, [["* * * * * root rm -rf /"], ["县级扶贫指标"]]),
         "rejected", "no_template", (0, 0, 0),
         "未能识别报表类型：前30行中没有与任何上报模板相符的表头，请使用省里下发的模板填报"),
    Case("control-characters-in-name", "relocations", CONTROL_NAME, csv_of(relocations(2, county="330825"), "relocations"),
         "loaded", None, (2, 2, 0)),
    Case("terminal-escapes-line-break-bidi-in-name", "households", TERMINAL_NAME,
         csv_of(households(3, county="330727"), "households"), "loaded", None, (3, 3, 0)),
    Case("duplicate-of-province-file", "province_indicators", "全省指标_2014_再次上报.csv",
         csv_of(province(), "province_indicators"),
         "duplicate", "duplicate", (0, 0, 0), DUPLICATE, original="全省指标_2014.csv"),

    # --- households: types, ranges, cross-field, hostile text; each also a register for the files below --
    Case("hh-size-chinese-numeral", "households", "330302_households_2014.csv",
         csv_of(spoil(households(6, county="330302"), 2, household_size="三"), "households"),
         "loaded", None, (6, 5, 1), bad={4: ("household_size", "type_int", "“家庭人口”应为整数")}),
    Case("hh-id-wrong-check-digit", "households", "330303_households_2014.csv",
         csv_of(spoil(households(6, county="330303"), 3,
                      head_id_number=id_number("330303", 4)[:17] + ("0" if id_number("330303", 4)[17] != "0" else "1")),
                "households"),
         "loaded", None, (6, 5, 1), bad={5: ("head_id_number", "id_check_digit", "身份证号校验位错误")}),
    Case("hh-id-as-excel-number", "households", "330304_households_2014.xlsx", _id_as_number_xlsx,
         "loaded", None, (6, 5, 1), bad={4: ("head_id_number", "pattern", ID_PATTERN)}),
    Case("hh-duplicate-household-id", "households", "330305_households_2014.csv",
         csv_of(_dup_key_rows(), "households"),
         "loaded", None, (10, 8, 2),
         bad={r: ("household_id", "unique_key", "“户编号”在本文件中重复，同一县同一年度只能出现一次") for r in (3, 8)}),
    Case("hh-row-of-other-county", "households", "330324_households_2014.csv",
         csv_of(spoil(households(6, county="330324"), 4, county_code="330326"), "households"),
         "loaded", None, (6, 5, 1),
         bad={6: ("county_code", "county_matches_file", "县代码与本文件所属县不一致；“行政村代码”的前6位应与县代码一致")}),
    Case("hh-year-out-of-range", "households", "330327_households_2014.csv",
         csv_of(spoil(households(6, county="330327"), 1, year=2031), "households"),
         "loaded", None, (6, 5, 1),
         bad={3: ("year", "range", "“年度”应在2012至2030之间；年度与本文件的年度不一致")}),
    Case("hh-identified-after-year", "households", "330328_households_2014.csv",
         csv_of(spoil(households(6, county="330328"), 5, identified_year=2016), "households"),
         "loaded", None, (6, 5, 1), bad={7: ("identified_year", "identified_year_le_year", "认定年份不能晚于年度")}),
    Case("hh-labour-over-size", "households", "330329_households_2014.csv",
         csv_of(spoil(households(6, county="330329"), 4, labour_count=3), "households"),
         "loaded", None, (6, 5, 1), bad={6: ("labour_count", "labour_le_size", "劳动力人数不能大于家庭人口")}),
    Case("hh-village-of-other-county", "households", "330411_households_2014.csv",
         csv_of(spoil(households(6, county="330411"), 0, village_code="330421101201"), "households"),
         "loaded", None, (6, 5, 1),
         bad={2: ("village_code", "village_in_county", "“行政村代码”的前6位应与县代码一致")}),
    Case("hh-bool-and-enum-typos", "households", "330421_households_2014.csv",
         csv_of(spoil(households(6, county="330421"), 2, is_dibao="可能", poverty_cause="懒惰"), "households"),
         "loaded", None, (6, 5, 1),
         bad={4: ("is_dibao", "type_bool", "“是否低保户”应填“是”或“否”；“主要致贫原因”应为以下之一："
                                           "因病、因残、因学、缺劳力、缺技术、缺资金、因灾、其他")}),
    Case("hh-control-character-in-id", "households", "330424_households_2014.csv",
         csv_of(spoil(households(6, county="330424"), 3, household_id="H\x07\x1b[31m4"), "households"),
         "loaded", None, (6, 5, 1), bad={5: ("household_id", "pattern", HH_ID_PATTERN)}),
    Case("hh-formula-payload-in-id", "households", "330481_households_2014.csv",
         csv_of(spoil(households(6, county="330481"), 0, household_id=FORMULA), "households"),
         "loaded", None, (6, 5, 1), bad={2: ("household_id", "pattern", HH_ID_PATTERN)}),
    Case("hh-formula-cells-xlsx", "households", "330381_households_2014.xlsx", _formula_xlsx,
         "loaded", None, (6, 5, 1), bad={4: ("head_name", "not_null", "“户主姓名”不能为空")}),
    Case("hh-sql-in-text-cells", "households", "330482_households_2014.csv", SQL_REGISTER,
         "loaded", None, (6, 6, 0)),
    # the same register under a second name in the same night: the copy is a duplicate, and the county's
    # files checked against the register see the original
    Case("register-twice-in-one-night", "households", "平湖市2014年低收入农户登记表.csv", SQL_REGISTER,
         "duplicate", "duplicate", (0, 0, 0), DUPLICATE, original="330482_households_2014.csv"),
    Case("inc-register-sent-twice", "household_income", "330482_household_income_2014.csv",
         csv_of(income_rows(ALL_IDS, "330482"), "household_income"), "loaded", None, (6, 6, 0)),
    Case("hh-sql-in-header", "households", "330483_households_2014.csv",
         lambda p: write_csv(p, [row + [v] for row, v in zip(table(households(6, county="330483"), "households"),
                                                              [SQL_LABEL, *["x"] * 6], strict=True)]),
         "loaded", None, (6, 6, 0),
         warns=((1, SQL_LABEL, "unknown_column", f"表头“{SQL_LABEL}”不是模板中的列，该列已忽略"),)),
    Case("hh-repeated-column", "households", "330502_households_2014.csv",
         lambda p: write_csv(p, [row + [row[5]] for row in table(households(6, county="330502"), "households")]),
         "loaded", None, (6, 6, 0),
         warns=((1, "户编号", "repeated_column", "表头“户编号”与前面的列重复（同一模板列），该列已忽略，以前面的列为准"),)),
    Case("hh-200000-row-used-range-xlsx", "households", "330382_households_2014.xlsx", _tall_xlsx,
         "loaded", None, (6, 6, 0)),
    Case("hh-16384-column-used-range-xlsx", "households", "330402_households_2014.xlsx", _wide_xlsx,
         "loaded", None, (6, 6, 0)),

    # --- household income: types, cross-field, and against the registers above -----------------------
    Case("inc-household-rejected-from-register", "household_income", "330302_household_income_2014.csv",
         csv_of(income_rows(ALL_IDS, "330302"), "household_income"),
         "loaded", None, (6, 5, 1), bad={4: ("household_id", "household_in_register", NOT_IN_REGISTER)}),
    Case("inc-employed-over-register-labour", "household_income", "330303_household_income_2014.csv",
         csv_of(spoil(income_rows(without(4), "330303"), 0, employed_labour=3), "household_income"),
         "loaded", None, (5, 4, 1),
         bad={2: ("employed_labour", "employed_le_labour", "就业人数不能大于登记表中该户的劳动力人数")}),
    Case("inc-components-do-not-sum", "household_income", "330305_household_income_2014.csv",
         csv_of(spoil(income_rows([1, 3, 4, 5, 6, 8], "330305"), 2, wage_income=4003.0), "household_income"),
         "loaded", None, (6, 5, 1),
         bad={4: ("net_income", "income_components_sum",
                  "工资性收入、家庭经营收入、财产性收入、转移性收入之和与家庭纯收入相差超过1元")}),
    Case("inc-nan-amount", "household_income", "330324_household_income_2014.csv",
         csv_of(spoil(income_rows(without(5), "330324"), 1, medical_aid="NaN"), "household_income"),
         "loaded", None, (5, 4, 1), bad={3: ("medical_aid", "type_number", "“医疗救助”应为数字")}),
    Case("inc-amount-too-large", "household_income", "330327_household_income_2014.csv",
         csv_of(spoil(income_rows(without(2), "330327"), 4, consumption_expenditure="99999999999999999"),
                "household_income"),
         "loaded", None, (5, 4, 1), bad={6: ("consumption_expenditure", "type_number", "“生活消费支出”应为数字")}),
    Case("inc-per-capita-wrong", "household_income", "330328_household_income_2014.csv",
         csv_of(spoil(income_rows(without(6), "330328"), 2, per_capita_net_income=99.0), "household_income"),
         "loaded", None, (5, 4, 1),
         bad={4: ("per_capita_net_income", "per_capita_income", "人均纯收入与家庭纯收入除以家庭人口相差超过1元")}),
    Case("inc-education-over-consumption", "household_income", "330329_household_income_2014.csv",
         csv_of(spoil(income_rows(without(5), "330329"), 0, education_expenditure=4500.0), "household_income"),
         "loaded", None, (5, 4, 1),
         bad={2: ("education_expenditure", "education_le_consumption", "教育支出不能大于生活消费支出")}),
    Case("inc-no-register-yet", "household_income", "330503_household_income_2014.csv",
         csv_of(income_rows(ALL_IDS, "330503"), "household_income"),
         "loaded", None, (6, 6, 0),
         warns=((None, None, "register_missing", "本县本年度的低收入农户登记表尚未上报，户编号未能核对"),)),

    # --- relocations ---------------------------------------------------------------------------------
    Case("rel-impossible-date", "relocations", "330521_relocations_2014.csv",
         csv_of(spoil(relocations(6, county="330521"), 1, move_date="2014/2/30"), "relocations"),
         "loaded", None, (6, 5, 1), bad={3: ("move_date", "type_date", "“搬迁日期”应为有效日期（如2014-05-01）")}),
    Case("rel-date-in-other-year", "relocations", "330522_relocations_2014.csv",
         csv_of(spoil(relocations(6, county="330522"), 2, move_date="2013-12-31"), "relocations"),
         "loaded", None, (6, 5, 1), bad={4: ("move_date", "move_date_in_year", "搬迁日期不在本年度内")}),
    Case("rel-type-and-persons", "relocations", "330523_relocations_2014.csv",
         csv_of(spoil(relocations(6, county="330523"), 3, relocation_type="自愿", persons=31), "relocations"),
         "loaded", None, (6, 5, 1),
         bad={5: ("relocation_type", "value_set", "“搬迁类型”应为以下之一：地质灾害隐患、高山远山、水库库区、连家渔船、其他；"
                                                  "“搬迁人数”应在1至30之间")}),
    Case("rel-subsidy-over-standard", "relocations", "330602_relocations_2014.csv",
         csv_of(spoil(relocations(6, county="330602"), 0, household_subsidy=20000.0), "relocations"),
         "loaded", None, (6, 6, 0),
         warns=((2, "household_subsidy", "household_subsidy_per_person", "到户补助超过每人5600元的标准"),)),
    Case("rel-from-village-of-other-county", "relocations", "330603_relocations_2014.csv",
         csv_of(spoil(relocations(6, county="330603"), 4, from_village_code="330604100201"), "relocations"),
         "loaded", None, (6, 5, 1),
         bad={6: ("from_village_code", "village_in_county", "“迁出村代码”的前6位应与县代码一致；迁出村代码属于其他县")}),

    # --- programmes ----------------------------------------------------------------------------------
    Case("prog-household-not-in-register", "program_participation", "330304_program_participation_2014.csv",
         csv_of(programmes([1, 2, 4, 5, 99], "330304"), "program_participation"),
         "loaded", None, (5, 4, 1), bad={6: ("household_id", "household_in_register", NOT_IN_REGISTER)}),
    Case("prog-unknown-programme", "program_participation", "330328_program_participation_2014.csv",
         csv_of(spoil(programmes(without(6), "330328"), 1, program="打牌"), "program_participation"),
         "loaded", None, (5, 4, 1),
         bad={3: ("program", "value_set", "“项目类型”应为以下之一：技能培训、来料加工、农家乐、家庭工业、就业帮扶、公益性岗位、小额贷款")}),
    Case("prog-loan-rate-over-cap", "program_participation", "330329_program_participation_2014.csv",
         lambda p: write_csv(p, table([microcredit(r, rate=9.0) if r["household_id"] == "H00002" else r
                                       for r in programmes(without(5), "330329")], "program_participation")),
         "loaded", None, (5, 5, 0),
         warns=((3, "loan_rate_pct", "loan_rate_cap", "贷款年利率超过当年贷款基准利率的140%"),)),
    Case("prog-loan-fields-on-training", "program_participation", "330381_program_participation_2014.csv",
         csv_of(spoil(programmes(without(3), "330381"), 0, loan_amount=30000.0), "program_participation"),
         "loaded", None, (5, 5, 0),
         warns=((2, None, "microcredit_fields_only", "非小额贷款项目不应填写贷款金额、贷款年利率、是否按期还款或贴息金额"),)),
    Case("prog-rate-and-persons-out-of-range", "program_participation", "330382_program_participation_2014.csv",
         lambda p: write_csv(p, table(spoil([microcredit(r) for r in programmes(ALL_IDS, "330382")], 5,
                                            loan_rate_pct=35, persons=0), "program_participation")),
         "loaded", None, (6, 5, 1),
         bad={7: ("persons", "range", "“参与人数”应在1至20之间；“贷款年利率(%)”应在0至30之间")},
         warns=((7, "loan_rate_pct", "loan_rate_cap", "贷款年利率超过当年贷款基准利率的140%"),)),
    Case("rel-warning-in-rejected-file", "relocations", "330703_relocations_2014.csv",
         csv_of(spoil(spoil(relocations(3, county="330703"), 0, homestead_reclaimed="有"), 1,
                      county_infra_subsidy=9000.0), "relocations"),
         "rejected", "too_many_bad_rows", (3, 0, 3), too_many(1, 3),
         bad={2: ("homestead_reclaimed", "type_bool", "“宅基地复垦”应填“是”或“否”")},
         warns=((3, "county_infra_subsidy", "county_infra_subsidy_per_person", "县级统筹补助超过每人2800元的标准"),)),

    # --- villages ------------------------------------------------------------------------------------
    Case("vil-negative-income-wan-yuan", "villages", "330604_villages_2014.xlsx",
         xlsx_of(table(spoil(villages(6, county="330604"), 3, collective_operating_income="-0.5"), "villages",
                       headers={"collective_operating_income": "村集体经营性收入（万元）"})),
         "loaded", None, (6, 5, 1), bad={5: ("collective_operating_income", "range_min", "“村集体经营性收入”不能小于0")}),
    Case("vil-one-bad-row-in-three", "villages", "330624_villages_2014.csv",
         csv_of(spoil(villages(3, county="330624"), 0, has_mutual_aid_fund="有"), "villages"),
         "rejected", "too_many_bad_rows", (3, 0, 3), too_many(1, 3),
         bad={2: ("has_mutual_aid_fund", "type_bool", "“资金互助会”应填“是”或“否”")}),

    # --- project funds (公告公示): the money rules reject the row, a file without the optional columns loads ----
    Case("pf-disbursed-over-allocated", "project_funds", "331081_project_funds_2014.csv",
         csv_of(spoil(projects(10, "331081"), 3, amount_disbursed=150000.0), "project_funds"),
         "loaded", None, (10, 9, 1), bad={5: ("amount_disbursed", "disbursed_le_allocated", "已拨付资金不能大于安排资金")}),
    Case("pf-announcement-ends-before-it-starts", "project_funds", "331082_project_funds_2014.csv",
         csv_of(spoil(projects(10, "331082"), 5, announcement_ends_on="2014-02-20"), "project_funds"),
         "loaded", None, (10, 9, 1),
         bad={7: ("announcement_ends_on", "announcement_ends_after_start", "公示期满日期不能早于公示日期")}),
    Case("pf-without-optional-columns", "project_funds", "331122_project_funds_2014.csv",
         csv_of(projects(5, "331122"), "project_funds",
                columns=["county_code", "year", "project_id", "project_name", "project_type", "fund_source",
                         "amount_allocated", "amount_disbursed"]),
         "loaded", None, (5, 5, 0)),

    # --- county and province indicators: one row each, so one bad row rejects the file ---------------
    Case("ci-percentage-over-100", "county_indicators", "330681_county_indicators_2014.csv",
         csv_of(spoil(indicators("330681"), 0, village_bus_access_pct=120), "county_indicators"),
         "rejected", "too_many_bad_rows", (1, 0, 1), too_many(1, 1),
         bad={2: ("village_bus_access_pct", "range", "“行政村客运通达率(%)”应在0至100之间")}),
    Case("ci-aided-over-need", "county_indicators", "330683_county_indicators_2014.csv",
         csv_of(spoil(indicators("330683"), 0, housing_aided_households=60), "county_indicators"),
         "rejected", "too_many_bad_rows", (1, 0, 1), too_many(1, 1),
         bad={2: ("housing_aided_households", "housing_aided_le_need", "住房救助户数不能大于住房困难户数")}),
    Case("ci-county-year-twice", "county_indicators", "330702_county_indicators_2014.csv",
         csv_of(indicators("330702") * 2, "county_indicators"),
         "rejected", "too_many_bad_rows", (2, 0, 2), too_many(2, 2),
         bad={r: (None, "unique_key", "“县代码+年度”在本文件中重复，同一县同一年度只能出现一次") for r in (2, 3)}),
    Case("prov-rate-in-words", "province_indicators", "全省指标表_2014_草稿.csv",
         csv_of(spoil(province(), 0, benchmark_rate_pct="五点六"), "province_indicators"),
         "rejected", "too_many_bad_rows", (1, 0, 1), too_many(1, 1),
         bad={2: ("benchmark_rate_pct", "type_number", "“贷款基准利率(%)”应为数字")}),
    Case("prov-year-blank", "province_indicators", "全省指标表_无年度.csv",
         csv_of(spoil(province(), 0, year=None), "province_indicators"),
         "rejected", "no_year", (1, 0, 1), "未能确定文件所属年度：“年度”列为空或不是四位年份，请填写年度后重新上报"),
]

# Not a county's file: a second name (hard link) of a file of the host, refused unread (issue 27).
HARD_LINK = "330822_households_2014.csv"


def _hard_link_to_host_file(path: Path) -> Path:
    """A second name of a file outside the data folder, as /etc/passwd was (a copy of it: a link to the
    real one would outlive the test in pytest's kept folders)."""
    host = path.parent.parent.parent / "passwd"
    host.write_bytes(Path("/etc/passwd").read_bytes() if Path("/etc/passwd").is_file() else b"root:x:0:0::/root:\n")
    os.link(host, path)
    return host


# Good files the cases lean on: the province's benchmark rate (loan-rate cap) and nothing else.
SUPPORT = {"全省指标_2014.csv": lambda p: write_csv(p, table(province(), "province_indicators"))}


# --- one warehouse, one landing folder, one ingestion for the whole module -------------------------


@pytest.fixture(scope="module")
def catalogue(cfg, tmp_path_factory):
    """A brand-new warehouse and data folder (like conftest's ``empty_warehouse``, module-scoped), every
    catalogue file in its landing folder, ingested once."""
    from lowincome import airflow_env
    from lowincome.config import WAREHOUSE_CONN_ID, settings, with_database
    from lowincome.warehouse import ensure_ready

    base = cfg.warehouse_url()
    name = f"lowincome_fc_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(base, name)
    data = tmp_path_factory.mktemp("fault_catalogue") / "data"
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LOWINCOME_WAREHOUSE_URL", url)
            patch.setenv("LOWINCOME_DATA_DIR", str(data))
            patch.setenv(f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}", url)
            own = ensure_ready(settings())
            for key, val in airflow_env.airflow_environment(own).items():
                if not key.startswith("AIRFLOW__DATABASE"):
                    patch.setenv(key, val)
            land = own.landing_dir
            land.mkdir(parents=True, exist_ok=True)
            files = [*SUPPORT.items(), *((c.file, c.write) for c in CASES)]
            stamp = 1_700_000_000 * 10**9
            for order, (file_name, write) in enumerate(files):
                path = land / file_name
                write(path)
                os.utime(path, ns=(stamp + order * 10**6, stamp + order * 10**6))   # arrival order = list order
            _hard_link_to_host_file(land / HARD_LINK)
            outcomes = ingest(own)
            yield own, outcomes
    finally:
        with contextlib.suppress(psycopg.Error), psycopg.connect(with_database(base, "postgres"),
                                                                 autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _params() -> list:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.bug)] if c.bug else [])
            for c in CASES]


@pytest.mark.parametrize("case", _params())
def test_fault_gets_its_exact_answer(catalogue, case: Case):
    cfg, outcomes = catalogue
    assert outcomes[case.file].status != "error", outcomes[case.file].reason
    sub = submission(cfg, case.file)
    reason = case.reason
    if case.original is not None:
        reason = reason.format(original=submission(cfg, case.original)["id"])
    got = (sub["status"], sub["reason_code"], (sub["rows_read"], sub["rows_loaded"], sub["rows_rejected"]),
           sub["reason"])
    assert got == (case.status, case.code, case.counts, reason)

    # every rejected row: its own reason where validation found one, else the file's reason
    listed = rejected_rows(cfg, sub["id"])
    assert len(listed) == sub["rows_rejected"]
    own = {r["row_number"]: (r["column_name"], r["rule"], r["reason"]) for r in listed if r["rule"] != case.code}
    assert own == case.bad
    assert all(r["reason"] == reason for r in listed if r["rule"] == case.code)

    warnings = rows(cfg, "select row_number, column_name, rule, reason from ops.row_warnings "
                         "where submission_id = %s order by row_number nulls first, id", (sub["id"],))
    assert tuple((w["row_number"], w["column_name"], w["rule"], w["reason"]) for w in warnings) == case.warns
    layout = {"unknown_column", "repeated_column"}
    warned = len({w[0] for w in case.warns if w[0] is not None and w[2] not in layout} - set(case.bad))
    assert sub["rows_warned"] == warned

    # what the county reads: the feedback file
    fed = feedback_lines(cfg, case.file)
    assert fed[0] == ["文件名", "行号", "列名", "填报值", "问题说明", "处理结果"]
    if case.status == "loaded":
        read, loaded_n, rejected_n = case.counts
        assert fed[1][4:] == [f"文件已接收：读入{read}行，入库{loaded_n}行，退回{rejected_n}行，提示{warned}行"
                              "（退回的行请改正后随全表重新上报）", "已入库"]
    else:
        assert fed[1][4:] == [reason, {"rejected": "整个文件退回", "duplicate": "重复文件，未重复入库"}[case.status]]
    problems = {(line[1], line[4], line[5]) for line in fed[2:]}
    for row, (_col, _rule, text) in case.bad.items():
        assert (str(row), text, "该行退回") in problems
    for row, _col, _rule, text in case.warns:
        action = "提示（已入库）" if case.status == "loaded" and row not in case.bad else "提示（未入库）"
        assert ("" if row is None else str(row), text, action) in problems
    assert len(fed) == 2 + len(case.bad) + len(case.warns)


def test_hostile_values_are_stored_as_plain_text_and_neutralised_in_feedback(catalogue):
    cfg, _outcomes = catalogue
    # SQL in cells is data: stored verbatim, nothing executed (the tables it names are still there)
    assert rows(cfg, "select village_name, township_name from raw.households where county_code = '330482' "
                     "and household_id = 'H00002'") == [{"village_name": SQL_TEXT, "township_name": "乡'; --"}]
    assert rows(cfg, "select count(*) as n from ops.submissions")[0]["n"] == len(CASES) + len(SUPPORT)
    # a formula payload is shown to the county as text, never as a formula Excel would run
    fed = feedback_lines(cfg, "330481_households_2014.csv")
    assert [line[3] for line in fed if line[1] == "2"] == ["'" + FORMULA]
    # the control characters of a rejected ID are kept as sent, for the county to see what was wrong
    [bad] = rejected_rows(cfg, submission(cfg, "330424_households_2014.csv")["id"])
    assert bad["raw_values"]["household_id"] == "H\x07\x1b[31m4"
    # hostile file names are names, never paths: everything written stays under $DATA
    data = Path(cfg.data_dir).resolve()
    for file_name in (TRAVERSAL_OK, TRAVERSAL_BAD, CONTROL_NAME):
        sub = submission(cfg, file_name)
        for written in (sub["archive_path"], sub["feedback_path"]):
            assert data in Path(written).resolve().parents, written
    [note] = [p for p in cfg.quarantine_dir.iterdir() if p.name.endswith("evil.csv.reason.txt")]
    assert note.parent == cfg.quarantine_dir and TRAVERSAL_BAD in note.read_text(encoding="utf-8")
    assert not Path("/etc/cron.d/evil.csv").exists()
    # a huge used range is read, not materialised as rows: only the six households
    assert rows(cfg, "select max(_source_row) as m from raw.households where county_code = '330382'") == [{"m": 7}]


def test_a_hard_link_to_a_host_file_is_refused_unread(catalogue):
    cfg, outcomes = catalogue
    refused = outcomes[HARD_LINK]
    assert (refused.status, refused.reason_code) == ("refused", "not_a_regular_file")
    assert refused.reason.startswith("a hard link (the file has 2 names), refused unread; taken out of landing, see ")
    assert rows(cfg, "select count(*) as n from ops.submissions where file_name = %s", (HARD_LINK,)) == [{"n": 0}]
    assert not [p for p in cfg.quarantine_dir.iterdir() if HARD_LINK in p.name]
    # only a note is kept: no second name of the host file lives on under $DATA
    assert [p.name[-len(HARD_LINK + ".reason.txt"):] for p in (cfg.quarantine_dir / "refused").iterdir()] == [
        HARD_LINK + ".reason.txt"]


def test_originals_quarantine_and_feedback_are_owner_only(catalogue):
    cfg, _outcomes = catalogue
    for root in (cfg.archive_dir, cfg.quarantine_dir, cfg.feedback_dir):
        for path in [root, *root.rglob("*")]:
            assert oct(os.stat(path).st_mode & 0o777) == ("0o700" if path.is_dir() else "0o600"), path


def test_feedback_goes_to_the_county_that_sent_the_file(catalogue):
    """A file named for 天台县 (331023) holding 仙居县's (331024) rows came from 天台县: its feedback goes
    there, and 仙居县 learns nothing of it."""
    cfg, _outcomes = catalogue
    sub = submission(cfg, "331023_relocations_2014.csv")
    assert (sub["county_code"], Path(sub["feedback_path"]).parent.name) == ("331024", "331023")
    assert not (cfg.feedback_dir / "331024").exists()
    # every name written under $DATA fits the filesystem's 255 bytes, with room for a temporary name
    for path in cfg.data_dir.rglob("*"):
        assert len(path.name.encode()) <= 255 - len(".tmp.4194304.tmp"), path


def test_every_file_is_accounted_for(catalogue):
    cfg, outcomes = catalogue
    assert {o.status for n, o in outcomes.items() if n != HARD_LINK} <= {"loaded", "rejected", "duplicate"}
    assert submission(cfg, "全省指标_2014.csv")["status"] == "loaded"
    assert list(cfg.landing_dir.iterdir()) == []
    accounting_holds(cfg)


def test_catalogue_is_large_distinct_and_spans_every_template():
    from lowincome.templates import templates

    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 40
    assert len({c.file for c in CASES}) == len(CASES)
    assert set(TEMPLATES) == set(templates()) == {c.template for c in CASES}
    for tpl in TEMPLATES:
        assert sum(c.template == tpl for c in CASES) >= 3, tpl
