"""Every rule, a passing and a failing example, validated through a real load table in the warehouse.

Row rules: one load table holds the passing row (source row 3) and the failing row (source row 4); the
rule must fire on row 4 only. File rules (plausibility, a register not yet received): the passing and
the failing file are validated separately; the rule must fire on the failing file only. Rules checked
against the warehouse run on a fresh warehouse seeded with the county's 2014 register and benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from quality_rows import (
    COUNTY,
    HMAC,
    OTHER_COUNTY,
    YEAR,
    columns_of,
    create_load_table,
    good_row,
    id_number,
    seed_submission,
)

from lowincome.quality import validate_load_table
from lowincome.quality.rules import rules_for
from lowincome.templates import template, templates


def row(template_name: str, n: int, **changes: str | None) -> dict[str, str | None]:
    """good_row with changes, pseudonyms recomputed from the changed values."""
    from lowincome.templates import template

    out = good_row(template_name, n) | changes
    for key_name, parts in template(template_name).pseudonyms.items():
        out[key_name] = HMAC(*(out.get(p) for p in parts))
    return out


def wrong_check_digit(body17: str) -> str:
    good = id_number(body17)
    return good[:17] + ("0" if good[17] != "0" else "1")


@dataclass
class Case:
    template: str
    rule: str
    column: str | None
    bad: dict = field(default_factory=dict)       # changes that make the row fail the rule
    good: dict = field(default_factory=dict)      # changes that keep it passing (edge of the rule)
    warehouse: bool = False                       # needs the seeded warehouse


ROW_CASES = [
    # households: one column
    Case("households", "not_null", "head_name", bad={"head_name": None}),
    # the contract's max_length: a type's (text: 200) or the column's own (head_name: 50)
    Case("households", "too_long", "village_name", bad={"village_name": "村" * 201}, good={"village_name": "村" * 200}),
    Case("households", "too_long", "head_name", bad={"head_name": "李" * 51}, good={"head_name": "李" * 50}),
    Case("households", "pattern", "village_code", bad={"village_code": "33080310000"}),
    Case("households", "pattern", "head_id_number", bad={"head_id_number": "3.30802E+17"}),
    Case("households", "pattern", "household_id", bad={"household_id": "户 1"}),
    Case("households", "type_int", "household_size", bad={"household_size": "4.5"}, good={"household_size": "20"}),
    Case("households", "range", "household_size", bad={"household_size": "21"}, good={"household_size": "1"}),
    Case("households", "range", "labour_count", bad={"labour_count": "-1"}, good={"labour_count": "0"}),
    Case("households", "type_bool", "is_dibao", bad={"is_dibao": "不是"}, good={"is_dibao": "Y"}),
    Case("households", "value_set", "poverty_cause", bad={"poverty_cause": "懒惰"}, good={"poverty_cause": "其他"}),
    Case("households", "value_set", "status", bad={"status": "失联"}, good={"status": "脱贫"}),
    Case("households", "type_year", "identified_year", bad={"identified_year": "二〇一三"}),
    Case("households", "range", "identified_year", bad={"identified_year": "1999"}, good={"identified_year": "2000"}),
    Case("households", "id_check_digit", "head_id_number", bad={"head_id_number": wrong_check_digit("33080319800101002")},
         good={"head_id_number": id_number("33080319800101002")}),
    Case("households", "county_matches_file", "county_code", bad={"county_code": OTHER_COUNTY}),
    Case("households", "year_matches_file", "year", bad={"year": "2015", "identified_year": "2013"}),
    Case("households", "type_year", "year", bad={"year": "2014年"}),
    Case("households", "village_in_county", "village_code", bad={"village_code": "330881100001"}),
    # a damaged line of a text file: its NUL byte read as U+FFFD (readers.DAMAGED), in any cell
    Case("households", "damaged_line", None, bad={"township_name": "樟潭\ufffd街道"}, good={"township_name": "樟潭街道"}),
    # households: several columns
    Case("households", "labour_le_size", "labour_count", bad={"labour_count": "5"}, good={"labour_count": "4"}),
    Case("households", "identified_year_le_year", "identified_year", bad={"identified_year": "2015"},
         good={"identified_year": "2014"}),
    # household_income
    Case("household_income", "type_number", "wage_income", bad={"wage_income": "2万"}),
    Case("household_income", "range_min", "wage_income", bad={"wage_income": "-1", "net_income": "2498.50"}),
    Case("household_income", "type_number", "net_income", bad={"net_income": "NaN"}),
    Case("household_income", "income_components_sum", "net_income", bad={"net_income": "22501.00"},
         good={"net_income": "22500.00", "per_capita_net_income": "5625.00"}),
    Case("household_income", "per_capita_income", "per_capita_net_income", bad={"per_capita_net_income": "5630"},
         good={"per_capita_net_income": "5625.80"}),
    Case("household_income", "education_le_consumption", "education_expenditure",
         bad={"education_expenditure": "15000.01"}, good={"education_expenditure": "15000"}),
    Case("household_income", "medical_le_consumption", "medical_expenditure", bad={"medical_expenditure": "16000"}),
    Case("household_income", "range", "employed_labour", bad={"employed_labour": "21"}),
    Case("household_income", "household_in_register", "household_id", bad={"household_id": "H0099"},
         warehouse=True),
    Case("household_income", "employed_le_labour", "employed_labour", bad={"employed_labour": "3"},
         good={"employed_labour": "2"}, warehouse=True),
    # relocations
    Case("relocations", "type_date", "move_date", bad={"move_date": "2014-02-30"}, good={"move_date": "2014-02-28"}),
    Case("relocations", "type_date", "move_date", bad={"move_date": "5/1/2014"}),
    Case("relocations", "move_date_in_year", "move_date", bad={"move_date": "2015-01-01"},
         good={"move_date": "2014-12-31"}),
    Case("relocations", "range", "persons", bad={"persons": "0"}),
    Case("relocations", "value_set", "relocation_type", bad={"relocation_type": "生态移民"}),
    Case("relocations", "household_subsidy_per_person", "household_subsidy", bad={"household_subsidy": "16801"},
         good={"household_subsidy": "16800"}),
    Case("relocations", "county_infra_subsidy_per_person", "county_infra_subsidy",
         bad={"county_infra_subsidy": "8400.01"}, good={"county_infra_subsidy": "8400"}),
    Case("relocations", "land_area_quota", "land_area_m2", bad={"land_area_m2": "241"}, good={"land_area_m2": "240"}),
    Case("relocations", "land_area_quota", "land_area_m2", bad={"relocation_type": "高山远山", "land_area_m2": "121"},
         good={"relocation_type": "高山远山", "land_area_m2": "120"}),
    Case("relocations", "land_area_quota", "land_area_m2", bad={"relocation_type": "水库库区", "land_area_m2": "121"},
         good={"relocation_type": "其他", "land_area_m2": "120"}),
    Case("relocations", "village_in_county", "from_village_code", bad={"from_village_code": "330881100001"}),
    Case("relocations", "from_village_other_county", "from_village_code", bad={"from_village_code": "330881100001"},
         warehouse=True),
    # program participation
    Case("program_participation", "value_set", "program", bad={"program": "贷款"}, good={"program": "microcredit"}),
    Case("program_participation", "range", "loan_rate_pct", bad={"loan_rate_pct": "30.5"}),
    Case("program_participation", "loan_rate_cap", "loan_rate_pct", bad={"loan_rate_pct": "8.41"},
         good={"loan_rate_pct": "8.4"}, warehouse=True),
    Case("program_participation", "microcredit_fields_only", None, bad={"program": "农家乐"},
         good={"program": "农家乐", "loan_amount": None, "loan_rate_pct": None, "repaid_on_time": None,
               "interest_subsidy": None}),
    Case("program_participation", "household_in_register", "household_id", bad={"household_id": "H0099"},
         warehouse=True),
    # villages, county and province indicators
    Case("villages", "village_in_county", "village_code", bad={"village_code": "330881100002"}),
    Case("villages", "type_bool", "has_mutual_aid_fund", bad={"has_mutual_aid_fund": "有"}),
    Case("villages", "range_min", "collective_operating_income", bad={"collective_operating_income": "-5"}),
    Case("county_indicators", "housing_aided_le_need", "housing_aided_households",
         bad={"housing_aided_households": "121"}, good={"housing_aided_households": "120"}),
    Case("county_indicators", "range", "village_bus_access_pct", bad={"village_bus_access_pct": "100.1"},
         good={"village_bus_access_pct": "100"}),
    Case("county_indicators", "type_int", "processing_workers", bad={"processing_workers": "3000000000"}),
    Case("province_indicators", "range", "benchmark_rate_pct", bad={"benchmark_rate_pct": "31"}),
    # project funds (公告公示)
    Case("project_funds", "disbursed_le_allocated", "amount_disbursed", bad={"amount_disbursed": "500000.01"},
         good={"amount_disbursed": "500000.00"}),
    Case("project_funds", "range_min", "amount_allocated", bad={"amount_allocated": "-1", "amount_disbursed": "0"},
         good={"amount_allocated": "0", "amount_disbursed": "0"}),
    Case("project_funds", "announcement_ends_after_start", "announcement_ends_on",
         bad={"announcement_ends_on": "2014-03-31"}, good={"announcement_ends_on": "2014-04-01"}),
    Case("project_funds", "date_near_year", "announced_on", bad={"announced_on": "2012-12-31"},
         good={"announced_on": "2013-01-01"}),
    Case("project_funds", "date_near_year", "announcement_ends_on", bad={"announcement_ends_on": "2016-01-01"},
         good={"announcement_ends_on": "2015-12-31"}),
    Case("project_funds", "type_date", "announced_on", bad={"announced_on": "2014年4月"}),
    Case("project_funds", "village_in_county", "village_code", bad={"village_code": "330881100001"},
         good={"village_code": None}),
    Case("project_funds", "pattern", "village_code", bad={"village_code": "3308031"}),
    Case("project_funds", "value_set", "project_type", bad={"project_type": "扶贫"}, good={"project_type": "村级集体经济"}),
    Case("project_funds", "value_set", "fund_source", bad={"fund_source": "银行"}, good={"fund_source": "省级财政"}),
    Case("project_funds", "not_null", "project_name", bad={"project_name": None}),
    Case("project_funds", "pattern", "project_id", bad={"project_id": "项目 1"}),
]


def _validate(cfg, table: str, template_name: str, county: str = COUNTY, year: int = YEAR,
              explanation: str | None = None):
    return validate_load_table(cfg, load_table=table, template=template_name,
                               county_code=template_name == "province_indicators" and "330000" or county,
                               year=year, columns=columns_of(template_name), explanation=explanation)


def _fired(outcome, case: Case) -> set:
    return {f.source_row for f in outcome.findings if f.rule == case.rule and f.column == case.column}


@pytest.mark.parametrize("case", [c for c in ROW_CASES if not c.warehouse],
                         ids=lambda c: f"{c.template}-{c.rule}-{c.column}-{next(iter(c.bad.values()))}")
def test_row_rule(cfg, load_table, case: Case):
    table = load_table(case.template, [row(case.template, 1, **case.good), row(case.template, 2, **case.bad)])
    outcome = _validate(cfg, table, case.template)
    assert _fired(outcome, case) == {4}


@pytest.mark.parametrize("case", [c for c in ROW_CASES if c.warehouse],
                         ids=lambda c: f"{c.template}-{c.rule}-{c.column}")
def test_row_rule_against_the_warehouse(warehouse, case: Case):
    cfg, conn = warehouse
    # another county's register holds the village 330881100001
    seed_submission(conn, "households", [good_row("households", 1, county=OTHER_COUNTY)], county=OTHER_COUNTY)
    table = create_load_table(conn, case.template, [row(case.template, 1, **case.good),
                                                    row(case.template, 2, **case.bad)])
    outcome = _validate(cfg, table, case.template)
    assert _fired(outcome, case) == {4}


@pytest.mark.parametrize("template_name", sorted(templates()))
def test_unique_key(cfg, load_table, template_name):
    first = good_row(template_name, 1)
    unique = load_table(template_name, [first, good_row(template_name, 2)]) \
        if template_name not in ("county_indicators", "province_indicators") else load_table(template_name, [first])
    twice = load_table(template_name, [first, dict(first), good_row(template_name, 3)]
                       if template_name not in ("county_indicators", "province_indicators") else [first, dict(first)])
    assert not [f for f in _validate(cfg, unique, template_name).findings if f.rule == "unique_key"]
    assert {f.source_row for f in _validate(cfg, twice, template_name).findings if f.rule == "unique_key"} == {3, 4}


def _file_findings(outcome, rule: str) -> list:
    return [f for f in outcome.findings if f.rule == rule]


def test_register_missing_is_a_file_warning(warehouse):
    cfg, conn = warehouse
    with_register = create_load_table(conn, "household_income", [row("household_income", 1)])
    no_register = create_load_table(conn, "household_income", [row("household_income", 1, county_code=OTHER_COUNTY)])
    assert not _file_findings(_validate(cfg, with_register, "household_income"), "register_missing")
    found = _file_findings(_validate(cfg, no_register, "household_income", county=OTHER_COUNTY), "register_missing")
    assert [(f.source_row, f.severity) for f in found] == [(None, "warn")]


def test_benchmark_unknown_is_a_file_warning(warehouse):
    cfg, conn = warehouse
    known = create_load_table(conn, "program_participation", [row("program_participation", 1)])
    unknown = create_load_table(conn, "program_participation", [row("program_participation", 1, year="2015")])
    assert not _file_findings(_validate(cfg, known, "program_participation"), "benchmark_unknown")
    outcome = _validate(cfg, unknown, "program_participation", year=2015)
    assert [(f.source_row, f.severity) for f in _file_findings(outcome, "benchmark_unknown")] == [(None, "warn")]
    assert not _file_findings(outcome, "loan_rate_cap")  # skipped, not guessed


def test_household_count_change(warehouse):
    cfg, conn = warehouse  # 2014 register: 5 households
    steady = create_load_table(conn, "households", [row("households", n, year="2015") for n in range(1, 6)])
    shrunk = create_load_table(conn, "households", [row("households", 1, year="2015")])
    assert not _file_findings(_validate(cfg, steady, "households", year=2015), "household_count_change")
    found = _file_findings(_validate(cfg, shrunk, "households", year=2015), "household_count_change")
    assert [(f.source_row, f.severity) for f in found] == [(None, "warn")]


def test_relocation_count_change(warehouse):
    cfg, conn = warehouse
    seed_submission(conn, "relocations", [good_row("relocations", 1, year=2013)], year=2013)
    doubled = create_load_table(conn, "relocations", [row("relocations", n) for n in (1, 2)])
    tripled = create_load_table(conn, "relocations", [row("relocations", n) for n in (1, 2, 3)])
    assert not _file_findings(_validate(cfg, doubled, "relocations"), "relocation_count_change")
    assert len(_file_findings(_validate(cfg, tripled, "relocations"), "relocation_count_change")) == 1


def test_mean_income_change_and_income_jump(warehouse):
    cfg, conn = warehouse
    seed_submission(conn, "household_income", [good_row("household_income", n, year=2013) for n in (1, 2)],
                    year=2013)
    same = create_load_table(conn, "household_income", [row("household_income", n) for n in (1, 2)])
    richer = create_load_table(conn, "household_income", [
        row("household_income", 1),
        row("household_income", 2, wage_income="300000", net_income="302499.50", per_capita_net_income="75624.88"),
    ])
    calm = _validate(cfg, same, "household_income")
    assert not _file_findings(calm, "mean_income_change") and not _file_findings(calm, "income_jump")
    jumped = _validate(cfg, richer, "household_income")
    assert [f.source_row for f in _file_findings(jumped, "income_jump")] == [4]
    assert [f.source_row for f in _file_findings(jumped, "mean_income_change")] == [None]
    assert all(f.severity == "warn" for f in _file_findings(jumped, "income_jump"))


def test_every_rule_has_an_example():
    """The cases above cover every rule id the suites use (a new rule needs a new example)."""
    covered = {c.rule for c in ROW_CASES} | {"unique_key", "register_missing", "benchmark_unknown",
                                             "household_count_change", "relocation_count_change",
                                             "mean_income_change", "income_jump"}
    used = {r.rule for name in templates() for r in rules_for(name)}
    assert used - covered == set()


@pytest.mark.parametrize(("pg_type", "text", "parses"), [
    ("integer", "3", True), ("integer", " -12 ", True), ("integer", "0x3", False), ("integer", "1_000", False),
    ("integer", "3.0", False), ("smallint", "2014", True), ("smallint", "0b11111011110", False),
    ("numeric(16,2)", "1234.5", True), ("numeric(16,2)", "1.5e3", True), ("numeric(16,2)", ".5", True),
    ("numeric(16,2)", "NaN", False), ("numeric(16,2)", "Infinity", False), ("numeric(16,2)", "0x1F", False),
    ("numeric(16,2)", "1_000", False), ("numeric(16,2)", "99999999999999999", False),
    ("date", "2014-05-01", True), ("date", "5/1/2014", False),
])
def test_only_plain_numbers_and_iso_dates_parse(conn, pg_type, text, parses):
    """PostgreSQL 16 reads '0x1F', '1_000', 'NaN' and 'Infinity' as numbers; no county means them so."""
    from lowincome.parsing import parses_sql

    assert conn.execute(f"select {parses_sql('v', pg_type)} from (values (%s)) as t(v)", [text]).fetchone()[0] is parses


def test_project_funds_without_its_optional_columns(cfg, load_table):
    """A county-wide project list without village, beneficiary and announcement columns is a valid file:
    the optional columns' rules are left out, the others still run."""
    optional = {"village_code", "beneficiary_households", "announced_on", "announcement_ends_on"}
    columns = [c for c in columns_of("project_funds") if c not in optional]
    rows = [row("project_funds", 2, amount_disbursed="600000")] + [row("project_funds", n) for n in range(3, 8)]
    outcome = validate_load_table(cfg, load_table=load_table("project_funds", rows, columns), template="project_funds",
                                  county_code=COUNTY, year=YEAR, columns=columns, explanation=None)
    assert not outcome.file_rejected
    assert {(f.rule, f.source_row) for f in outcome.findings} == {("disbursed_le_allocated", 3)}
    assert [f.reason for f in outcome.findings] == ["已拨付资金不能大于安排资金"]


@pytest.mark.parametrize(("template_name", "optional"), [
    ("county_indicators", {"mutual_aid_funds_total", "urban_per_capita_disposable_income"}),
    ("province_indicators", {"province_urban_per_capita_disposable_income"}),
])
def test_indicator_files_without_the_optional_columns_of_issue_24(cfg, load_table, template_name, optional):
    """Files sent before F2's stock and S3's urban incomes were asked for still load, without a finding."""
    assert {c.name for c in template(template_name).columns if not c.required} == optional
    columns = [c for c in columns_of(template_name) if c not in optional]
    rows = [row(template_name, 2)]
    outcome = validate_load_table(cfg, load_table=load_table(template_name, rows, columns), template=template_name,
                                  county_code=COUNTY if template_name == "county_indicators" else "330000", year=YEAR,
                                  columns=columns, explanation=None)
    assert not outcome.file_rejected and not outcome.findings
