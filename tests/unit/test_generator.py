"""The sample-submission generator: determinism, realism rules, file naming and the deliberate faults."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from lowincome.errors import UserError
from lowincome.generator import COUNTY_TEMPLATES, FAULTS_FILE, generate, sends
from lowincome.generator.counties import load_counties, select_counties
from lowincome.generator.economy import benchmark_rate, county_economy
from lowincome.generator.households import HouseholdPanel, initial_households
from lowincome.generator.indicators import county_indicators_table
from lowincome.generator.messy import KINDS
from lowincome.generator.names import is_valid_id_number
from lowincome.generator.receipts import deadline
from lowincome.generator.styles import county_styles
from lowincome.generator.villages import village_roster, villages_table
from lowincome.templates import template

SEED = 2013
YEARS = [2012, 2013, 2014]
COMPONENTS = ("wage_income", "business_income", "property_income", "transfer_income")
NAME = re.compile(r"^(\d{6})_([a-z_]+)_(\d{4})\.(csv|xlsx)$")
CORRECTED = re.compile(r"^(\d{6})_county_indicators_(\d{4})_更正\.(csv|xlsx)$")
LOCAL_TIME = ZoneInfo("Asia/Shanghai")


def _pick_counties() -> list[str]:
    """A handful of counties covering every format habit (XLSX with title, GBK, English headers, 万元…)."""
    styles = county_styles(SEED)
    wanted = ["330803", "330328", "330109"]  # 衢江 (12), 文成 (12), 萧山 (developed)
    probes = [
        lambda s: s.fmt == "xlsx" and s.title_row and s.unit_row,
        lambda s: s.fmt == "xlsx" and not s.title_row,
        lambda s: s.fmt == "csv" and s.encoding == "gbk",
        lambda s: s.fmt == "csv" and s.encoding == "utf-8-sig",
        lambda s: s.headers == "en",
        lambda s: s.headers == "zh_unit",
        lambda s: "collective_operating_income" in s.wan_yuan,
    ]
    for probe in probes:
        wanted.append(next(code for code, style in sorted(styles.items()) if probe(style)))
    return sorted(set(wanted))


COUNTIES = _pick_counties()


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("plain")
    return generate(out, YEARS, scale=0.01, seed=SEED, counties=COUNTIES)


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy")
    return generate(out, [2013, 2014], scale=0.005, seed=SEED, counties=COUNTIES, messy=True)


# -- reading the files back ------------------------------------------------------------------------
def _canonical(label: str, template_name: str) -> tuple[str, float]:
    """Header label -> (canonical name, multiplier); the generator's header variants only."""
    text = str(label).strip()
    factor = 1.0
    for suffix, mult in (("(万元)", 10000.0), ("（万元）", 10000.0), ("(元)", 1.0), ("（元）", 1.0)):
        if text.endswith(suffix):
            text, factor = text[: -len(suffix)], mult
            break
    for col in template(template_name).columns:
        if text in (col.name, col.zh, *col.aliases):
            return col.name, factor
    raise AssertionError(f"unknown header {label!r} for {template_name}")


def _sheet_rows(path: Path) -> list[list]:
    """All rows of a file as the county sees them (row 1 = first line), cells as str or native values."""
    if path.suffix == ".xlsx":
        workbook = load_workbook(path, read_only=True)
        sheet = workbook.worksheets[-1]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        workbook.close()
        return rows
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gbk")
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


def read_records(path: Path, template_name: str) -> list[dict]:
    rows = _sheet_rows(path)
    start = next(i for i, r in enumerate(rows) if sum(v not in (None, "") for v in r) >= 3)
    header = [_canonical(h, template_name) for h in rows[start] if h not in (None, "")]
    records = []
    for row in rows[start + 1:]:
        if all(v in (None, "") for v in row):
            continue
        row = list(row) + [None] * (len(header) - len(row))  # read-only sheets drop trailing empty cells
        record = {}
        for (name, factor), value in zip(header, row, strict=False):
            if factor != 1.0 and value not in (None, ""):
                value = float(value) * factor
            record[name] = value
        records.append(record)
    return records


def files_of(summary, template_name: str) -> dict[tuple[str, int], Path]:
    found = {}
    for path in summary.files:
        match = NAME.match(path.name)
        if match and match.group(2) == template_name:
            found[(match.group(1), int(match.group(3)))] = path
    return found


def cents(value) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


# -- the county list -------------------------------------------------------------------------------
def test_county_list_has_the_plan_groups():
    counties = load_counties()
    assert 85 <= len(counties) <= 95
    codes = [c.code for c in counties]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"33\d{4}", c) for c in codes)
    assert all(c.code[:4] == c.city_code[:4] and c.city_code.endswith("00") for c in counties)
    c26 = {c.code for c in counties if c.is_26}
    c29 = {c.code for c in counties if c.is_29}
    c12 = {c.code for c in counties if c.is_12}
    assert (len(c26), len(c29), len(c12)) == (26, 29, 12)
    assert c26 < c29 and c12 < c29
    assert c29 - c26 == {"331003", "330702", "330781"}  # 黄岩, 婺城, 兰溪 (whole)
    names = {c.code: c.name for c in counties}
    assert names["330803"] == "衢江区" and names["331127"] == "景宁畲族自治县" and names["330111"] == "富阳区"
    assert all((c.area_type == "underdeveloped") == c.is_29 for c in counties)
    assert all(c.rural_population_10k >= 2 for c in counties)


def test_counties_selected_by_code_name_or_former_code():
    assert [c.code for c in select_counties(["330803", "文成县", "景宁", "330183"])] == [
        "330111", "330328", "330803", "331127"]
    with pytest.raises(UserError, match="unknown county"):
        select_counties(["110101"])


# -- determinism and naming ------------------------------------------------------------------------
def test_same_arguments_give_identical_bytes(messy_run, tmp_path):
    again = generate(tmp_path, [2013, 2014], scale=0.005, seed=SEED, counties=COUNTIES, messy=True)
    first = {p.name: p.read_bytes() for p in messy_run.out.iterdir()}
    second = {p.name: p.read_bytes() for p in again.out.iterdir()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert any(name.endswith(".xlsx") for name in first)


def test_files_are_named_county_template_year(plain_run):
    names = [p.name for p in plain_run.files]
    assert len(names) == len(set(names))
    expected = {(c, t, y) for c in COUNTIES for t in COUNTY_TEMPLATES for y in YEARS if sends(t, y)}
    expected |= {("330000", "province_indicators", y) for y in YEARS}
    found = set()
    for name in names:
        match = NAME.match(name)
        assert match or CORRECTED.match(name), name
        if match:
            found.add((match.group(1), match.group(2), int(match.group(3))))
    assert found == expected
    styles = county_styles(SEED)
    for path in plain_run.files:
        code = path.name[:6]
        if code != "330000":
            assert path.suffix == f".{styles[code].fmt}"
    assert not (plain_run.out / FAULTS_FILE).exists()
    assert "households" in str(plain_run) and plain_run.rows["households"] > 0


def test_encodings_titles_and_units_are_the_countys(plain_run):
    styles = county_styles(SEED)
    seen = Counter()
    for path in plain_run.files:
        style = styles.get(path.name[:6])
        if style is None:
            continue
        raw = path.read_bytes()
        if style.fmt == "csv":
            seen[style.encoding] += 1
            assert raw.startswith(b"\xef\xbb\xbf") == (style.encoding == "utf-8-sig")
            raw.decode(style.encoding)
        else:
            rows = _sheet_rows(path)
            if style.title_row:
                seen["title"] += 1
                assert re.fullmatch(r".+\d{4}年.+", rows[0][0])
            if style.unit_row:
                assert str(rows[1][0]).startswith("单位:")
    assert seen["gbk"] and seen["utf-8-sig"] and seen["title"]


def test_amounts_in_wan_yuan_are_labelled_and_scaled(plain_run):
    styles = county_styles(SEED)
    code = next(c for c in COUNTIES if "collective_operating_income" in styles[c].wan_yuan)
    path = files_of(plain_run, "villages")[(code, 2014)]
    assert any("村集体经营性收入(万元)" in [str(h) for h in row] for row in _sheet_rows(path)[:4])
    incomes = [r["collective_operating_income"] for r in read_records(path, "villages")]
    assert incomes and all(1000 <= v <= 5_000_000 for v in incomes)


# -- realism rules ---------------------------------------------------------------------------------
def test_id_numbers_are_valid_and_local(plain_run):
    for (code, year), path in files_of(plain_run, "households").items():
        for record in read_records(path, "households"):
            number = str(record["head_id_number"])
            assert is_valid_id_number(number), number
            assert number[:6] == code
            age = year - int(number[6:10])
            assert 18 <= age <= 100


def test_income_components_add_up(plain_run):
    registers = {key: {r["household_id"]: r for r in read_records(path, "households")}
                 for key, path in files_of(plain_run, "households").items()}
    checked = 0
    for key, path in files_of(plain_run, "household_income").items():
        register = registers[key]
        for r in read_records(path, "household_income"):
            parts = sum(cents(r[c]) for c in COMPONENTS)
            assert parts == cents(r["net_income"])
            size = int(r["household_size"])
            assert abs(cents(r["per_capita_net_income"]) - cents(r["net_income"]) / size) <= 1
            consumption = float(r["consumption_expenditure"])
            assert float(r["education_expenditure"]) <= consumption
            assert float(r["medical_expenditure"]) <= consumption
            household = register[r["household_id"]]  # every income row has a register row
            assert household["status"] != "退出"
            assert int(r["employed_labour"]) <= int(household["labour_count"]) <= size
            checked += 1
    assert checked > 100


def test_households_persist_and_statuses_move_plausibly():
    county = select_counties(["330803"])[0]
    panel = HouseholdPanel(county, county_economy(county, SEED), village_roster(county, 0.1, SEED), 0.1, SEED)
    registers = []
    for _ in range(2012, 2018):
        panel.advance()
        table = panel.households_table()
        col = table.columns.index
        registers.append({
            r[col("household_id")]: (r[col("status")], r[col("identified_year")], r[col("year")])
            for r in table.rows
        })
    first = registers[0]
    assert set(Counter(s for s, _, _ in first.values())) <= {"在册", "新增"}
    for before, after in zip(registers, registers[1:], strict=False):
        year = next(iter(after.values()))[2]
        n = len(after)
        status = Counter(s for s, _, _ in after.values())
        assert 0.02 < status["新增"] / n < 0.09
        assert 0.001 < status["退出"] / n < 0.03
        for hid, (s, identified, _) in after.items():
            assert identified <= year
            if hid not in before:
                assert s == "新增" and identified == year
            else:
                previous = before[hid][0]
                assert previous != "退出"  # removed households leave the register
                if previous == "脱贫":
                    assert s in ("脱贫", "在册", "新增", "退出")  # stays lifted, or falls back (返贫)
        # lifted households stay in later registers
        lifted = [h for h, (s, _, _) in before.items() if s == "脱贫"]
        assert all(h in after for h in lifted)
    lifted_2017 = Counter(s for s, _, _ in registers[-1].values())["脱贫"] / len(registers[-1])
    assert 0.12 < lifted_2017 < 0.4
    returned = sum(1 for b, a in zip(registers, registers[1:], strict=False)
                   for h, (s, _, _) in a.items() if h in b and b[h][0] == "脱贫" and s in ("在册", "新增"))
    assert returned > 0


def test_full_scale_is_a_province():
    counties = load_counties()
    households = {c.code: initial_households(c, 1.0) for c in counties}
    assert 0.99e6 < sum(households.values()) < 1.01e6
    share_29 = sum(households[c.code] for c in counties if c.is_29) / sum(households.values())
    rural = {c.code: c.rural_population_10k for c in counties}
    rural_29 = sum(rural[c.code] for c in counties if c.is_29) / sum(rural.values())
    assert share_29 > 1.5 * rural_29
    key_villages = sum(int(village_roster(c, 1.0, SEED).is_key.sum()) for c in counties if c.is_29)
    assert 4000 < key_villages < 6000


def test_cells_hold_plain_python_values():
    """numpy scalars would format differently in CSV and XLSX; every cell must be a plain value."""
    county = select_counties(["330803"])[0]
    economy = county_economy(county, SEED)
    roster = village_roster(county, 0.01, SEED)
    panel = HouseholdPanel(county, economy, roster, 0.01, SEED)
    panel.advance()
    tables = [
        panel.households_table(), panel.income_table(), panel.programs_table(), panel.relocations_table(),
        villages_table(county, roster, 2012, SEED), county_indicators_table(county, economy, 2012, SEED),
    ]
    allowed = (str, int, float, bool, dt.date, type(None))
    for table in tables:
        assert table.rows
        assert {type(v) for row in table.rows for v in row} <= set(allowed), table.template.name


def test_programmes_and_relocations_follow_the_rules(plain_run):
    within_cap = Counter()
    for (_, year), path in files_of(plain_run, "program_participation").items():
        for r in read_records(path, "program_participation"):
            microcredit = r["program"] in ("小额贷款", "microcredit")
            loan_fields = [r["loan_amount"], r["loan_rate_pct"], r["repaid_on_time"], r["interest_subsidy"]]
            if microcredit:
                assert all(v not in (None, "") for v in loan_fields)
                within_cap[float(r["loan_rate_pct"]) <= 1.4 * benchmark_rate(year)] += 1
            else:
                assert all(v in (None, "") for v in loan_fields)
    assert within_cap[True] > 5 * within_cap[False]  # mostly within 140% of the benchmark, not all
    ids = Counter()
    for (code, year), path in files_of(plain_run, "relocations").items():
        records = read_records(path, "relocations")
        assert records
        for r in records:
            ids[(code, r["relocation_id"])] += 1
            assert str(r["from_village_code"]).startswith(code) and len(str(r["from_village_code"])) == 12
            moved = str(r["move_date"])
            assert moved.startswith(str(year)), moved
            assert float(r["household_subsidy"]) <= 5600 * int(r["persons"])
    assert max(ids.values()) == 1


# -- the deliberate faults -------------------------------------------------------------------------
def test_every_fault_kind_is_listed_once_at_least(messy_run):
    listed = json.loads((messy_run.out / FAULTS_FILE).read_text(encoding="utf-8"))
    assert listed == [f.to_json() for f in messy_run.faults]
    assert {f["kind"] for f in listed} == {k.name for k in KINDS}
    for fault in listed:
        assert (messy_run.out / fault["file"]).exists(), fault
        assert fault["expected"] in ("file_rejected", "row_rejected", "warn", "accepted")
        assert set(fault) >= {"file", "template", "kind", "row", "column", "expected"}


def test_fault_rows_point_at_the_fault(messy_run):
    out = messy_run.out
    for fault in messy_run.faults:
        path = out / fault.file
        kind = fault.kind
        if kind == "empty_file":
            assert path.stat().st_size == 0
            continue
        if kind == "binary_junk_xlsx":
            assert not zipfile.is_zipfile(path)
            continue
        rows = _sheet_rows(path)
        if fault.row is None:
            continue
        assert 1 <= fault.row <= len(rows), fault
        row = rows[fault.row - 1]
        header_at = next(i for i, r in enumerate(rows) if sum(v not in (None, "") for v in r) >= 3)
        labels = rows[header_at]
        if fault.template == "household_income" and any(v == "收入构成" for v in labels):
            width = max(len(labels), len(rows[header_at + 1]))
            top_row = list(labels) + [None] * (width - len(labels))
            below = list(rows[header_at + 1]) + [None] * (width - len(rows[header_at + 1]))
            labels = [sub or top for top, sub in zip(top_row, below, strict=True)]
        names = [_canonical(h, fault.template)[0] for h in labels]
        cell = row[names.index(fault.column)] if fault.column and kind not in ("wan_yuan_header",) else None
        if kind == "total_row":
            assert row[0] == "合计" and fault.row == len(rows)
        elif kind == "blank_rows":
            assert all(v in (None, "") for v in row)
        elif kind == "fullwidth_digits":
            assert re.search("[０-９]", str(cell))
        elif kind == "id_as_float_csv":
            assert re.fullmatch(r"\d\.\d{5}E\+17", cell)
        elif kind == "id_as_float_xlsx":
            assert isinstance(cell, float)
        elif kind == "bad_check_digit":
            assert len(cell) == 18 and not is_valid_id_number(cell)
        elif kind == "labour_exceeds_size":
            assert int(cell) > int(row[names.index("household_size")])
        elif kind == "unknown_status":
            assert cell not in template("households").column("status").values
        elif kind == "duplicate_household_id":
            earlier = [r[names.index("household_id")] for r in rows[header_at + 1: fault.row - 1]]
            assert cell in earlier
        elif kind == "components_not_summing":
            parts = sum(cents(row[names.index(c)]) for c in COMPONENTS)
            assert parts != cents(cell)
        elif kind == "household_not_in_register":
            register = files_of(messy_run, "households").get((fault.county_code, fault.year))
            assert register is not None
            assert cell not in {r["household_id"] for r in read_records(register, "households")}
        elif kind in ("wan_yuan_header", "merged_header"):
            assert any("万元" in str(v) or v == "收入构成" for v in row)
        elif kind == "disbursed_over_allocated":
            assert cents(cell) > cents(row[names.index("amount_allocated")])
        elif kind == "announcement_ends_before_start":
            assert str(cell)[:10] < str(row[names.index("announced_on")])[:10]
        elif kind == "project_village_other_county":
            assert not str(cell).startswith(fault.county_code) and len(str(cell)) == 12
        elif kind == "duplicate_project_id":
            earlier = [r[names.index("project_id")] for r in rows[header_at + 1: fault.row - 1]]
            assert cell in earlier


def test_file_level_faults(messy_run):
    by_kind = {f.kind: f for f in messy_run.faults}
    out = messy_run.out
    scope = read_records(out / by_kind["county_out_of_scope"].file, "villages")
    assert {r["county_code"] for r in scope} == {"110101"}
    mismatch = by_kind["year_mismatch"]
    named_year = int(re.search(r"(\d{4})", mismatch.file.split("_")[-1]).group(1))
    assert {int(r["year"]) for r in read_records(out / mismatch.file, "county_indicators")} == {mismatch.year}
    assert named_year != mismatch.year
    missing = by_kind["missing_required_column"]
    header = {_canonical(h, "households")[0] for h in _sheet_rows(out / missing.file)[0]}
    assert missing.column not in header and len(header) == len(template("households").columns) - 1
    gbk = out / by_kind["gbk_csv"].file
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")
    second = load_workbook(out / by_kind["data_on_second_sheet"].file, read_only=True)
    assert len(second.worksheets) == 2
    assert not NAME.match(by_kind["chinese_file_name"].file)


def test_bad_arguments_say_what_to_do(tmp_path):
    with pytest.raises(UserError, match="years"):
        generate(tmp_path, [2011])
    with pytest.raises(UserError, match="format"):
        generate(tmp_path, [2013], fmt="ods")


# -- receipt dates, resubmissions, indicators that add up --------------------------------------------
def _arrived(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TIME)


def test_each_file_carries_a_receipt_date_around_its_deadline(plain_run):
    """Files arrive in office hours, mostly in the four weeks before the calendar's deadline, a few late."""
    days_after = []
    for path in plain_run.files:
        match = NAME.match(path.name)
        if not match:
            continue
        arrived = _arrived(path)
        assert dt.time(8, 30) <= arrived.time() < dt.time(17, 30), path.name
        days_after.append((arrived.date() - deadline(match.group(2), int(match.group(3)))).days)
    assert len(days_after) == len(COUNTIES) * sum(sends(t, y) for t in COUNTY_TEMPLATES for y in YEARS) + len(YEARS)
    assert all(-28 < d <= 70 for d in days_after)
    late = sum(1 for d in days_after if d > 0)
    assert 0 < late < 0.25 * len(days_after)
    assert deadline("households", 2012) == dt.date(2013, 1, 31) and deadline("households", 2030) == dt.date(2031, 1, 31)


def test_a_few_counties_resubmit_their_indicators_corrected_weeks_later(plain_run):
    corrected = [p for p in plain_run.files if CORRECTED.match(p.name)]
    assert len(corrected) == 1                       # seed 2013: 330111's indicators of 2012
    for path in corrected:
        code, year = CORRECTED.match(path.name).group(1, 2)
        first = files_of(plain_run, "county_indicators")[(code, int(year))]
        assert 7 <= (_arrived(path).date() - _arrived(first).date()).days <= 42
        before, after = read_records(first, "county_indicators")[0], read_records(path, "county_indicators")[0]
        assert [k for k in before if before[k] != after[k]] == ["rural_road_km"]


def test_processing_indicators_add_up_to_the_participation_records(plain_run):
    """What the reconciliation mart compares agrees within 3%, at any scale."""
    programmes = files_of(plain_run, "program_participation")
    for key, path in files_of(plain_run, "county_indicators").items():
        records = [r for r in read_records(programmes[key], "program_participation")
                   if r["program"] in ("来料加工", "processing")]
        persons = sum(int(r["persons"]) for r in records)
        income = sum(float(r["program_income"]) for r in records)
        indicators = read_records(path, "county_indicators")[0]
        assert abs(int(indicators["processing_workers"]) - persons) <= 0.03 * persons + 1, key
        assert abs(float(indicators["processing_fees"]) - income) <= 0.03 * income + 10, key


# -- project funds (公告公示) ---------------------------------------------------------------------------
def _day(value) -> dt.date:
    """A date cell as the generator writes it: a date (XLSX), 2014-03-15 or 2014/3/15 (CSV)."""
    if isinstance(value, dt.datetime | dt.date):
        return value if type(value) is dt.date else value.date()
    y, m, d = (int(p) for p in re.split(r"[-/]", str(value)[:10]))
    return dt.date(y, m, d)


def test_project_funds_from_2013_realistic_and_without_personal_data(plain_run):
    funds = files_of(plain_run, "project_funds")
    assert {year for _code, year in funds} == {2013, 2014}          # the plan's 公告公示 starts in 2013
    assert len(funds) == 2 * len(COUNTIES)
    records, wan = [], 0
    for (code, year), path in funds.items():
        wan += any("万元" in str(v) for r in _sheet_rows(path)[:4] for v in r)   # in the header (title rows above)
        rows = read_records(path, "project_funds")
        assert len(rows) >= 20
        assert len({r["project_id"] for r in rows}) == len(rows)
        for r in rows:
            r["_code"], r["_year"] = code, year
            assert cents(r["amount_disbursed"]) <= cents(r["amount_allocated"]), r
            if r["village_code"] not in (None, ""):
                assert str(r["village_code"]).startswith(code) and len(str(r["village_code"])) == 12
            if r["announced_on"] not in (None, "") and r["announcement_ends_on"] not in (None, ""):
                assert _day(r["announced_on"]) <= _day(r["announcement_ends_on"]), r
            assert set(r) - {"_code", "_year"} <= set(template("project_funds").column_names)
        records += rows
    assert 0 < wan < len(funds)                           # some counties send 万元, some yuan
    not_announced = sum(r["announced_on"] in (None, "") for r in records)
    county_wide = sum(r["village_code"] in (None, "") for r in records)
    partly_paid = sum(cents(r["amount_disbursed"]) < cents(r["amount_allocated"]) for r in records)
    assert 0 < not_announced < 0.2 * len(records) and 0 < county_wide < 0.4 * len(records)
    assert 0.15 * len(records) < partly_paid < 0.6 * len(records)
    into_next_year = [r for r in records if r["announcement_ends_on"] not in (None, "")
                      and str(r["announcement_ends_on"])[:4] == str(r["_year"] + 1)]
    assert into_next_year                                 # announced in December, the period into January
    types = template("project_funds").column("project_type").values
    assert {r["project_type"] for r in records} <= set(types) and len({r["project_type"] for r in records}) >= 6


def test_indicators_carry_the_optional_columns_of_issue_24():
    """F2's stock of mutual-aid funds and S3's urban incomes: present, plausible, the stock growing."""
    from lowincome.generator.indicators import province_indicators_table

    for code in ("330803", "330522"):
        county = select_counties([code])[0]
        economy = county_economy(county, SEED)
        rows = []
        for year in (2012, 2014, 2017):
            table = county_indicators_table(county, economy, year, SEED)
            rows.append(dict(zip(table.columns, table.rows[0], strict=True)))
        assert all(isinstance(r["mutual_aid_funds_total"], int) for r in rows)
        assert rows[0]["mutual_aid_funds_total"] < rows[-1]["mutual_aid_funds_total"]
        for r in rows:   # urban disposable income about twice the rural net income (Zhejiang 2012-2017: 2.1-2.4)
            assert 1.9 <= r["urban_per_capita_disposable_income"] / r["rural_per_capita_net_income"] <= 2.7
    province = province_indicators_table(2014)
    urban = dict(zip(province.columns, province.rows[0], strict=True))["province_urban_per_capita_disposable_income"]
    assert 38000 <= urban <= 44000     # 34,550 in 2012, about 9% a year
