"""Rows, load tables and seeded submissions for the validation tests (plain helpers, importable by name).

Kept out of ``conftest.py``: pytest imports every test folder's ``conftest`` under the one module name
``conftest``, so ``from conftest import X`` in a test finds whichever folder's conftest was loaded last.
"""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from lowincome.pseudonym import make_hasher
from lowincome.templates import template

COUNTY = "330803"
OTHER_COUNTY = "330881"
YEAR = 2014
HMAC = make_hasher("test-key-not-a-secret")


def id_number(body17: str) -> str:
    """An 18-character ID number with a correct GB 11643 check digit."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11]


def good_row(template_name: str, n: int = 1, county: str = COUNTY, year: int = YEAR) -> dict[str, str | None]:
    """A row that passes every rule of its template (given the seeded warehouse)."""
    hid = f"H{n:04d}"
    base = {"county_code": county, "year": str(year)}
    rows: dict[str, dict[str, str | None]] = {
        "households": {
            "township_name": "莲花镇", "village_code": f"{county}100001", "village_name": "塔山村",
            "household_id": hid, "head_name": "张三", "head_id_number": id_number(f"33080319800101{n:03d}"),
            "household_size": "4", "labour_count": "2", "is_dibao": "否", "identified_year": "2013",
            "poverty_cause": "因病", "status": "在册",
        },
        "household_income": {
            "household_id": hid, "household_size": "4", "wage_income": "20000", "business_income": "-500.50",
            "property_income": "1000", "transfer_income": "2000", "net_income": "22499.50",
            "per_capita_net_income": "5624.88", "consumption_expenditure": "15000", "education_expenditure": "2000",
            "medical_expenditure": "1000", "education_aid": "0", "medical_aid": "0", "employed_labour": "2",
            "trained_persons": "1",
        },
        "relocations": {
            "relocation_id": f"R{n:04d}", "household_id": hid, "from_village_code": f"{county}100001",
            "relocation_type": "地质灾害隐患", "settlement_type": "县城", "settlement_site": "幸福小区",
            "persons": "3", "move_date": f"{year}-05-01", "household_subsidy": "16800",
            "county_infra_subsidy": "8400", "land_area_m2": "200", "homestead_reclaimed": "是",
        },
        "program_participation": {
            "household_id": hid, "program": "小额贷款", "persons": "1", "program_income": "5000",
            "loan_amount": "50000", "loan_rate_pct": "6.5", "repaid_on_time": "是", "interest_subsidy": "1000",
        },
        "villages": {
            "village_code": f"{county}1{n:05d}", "village_name": "塔山村", "is_key_village": "是",
            "is_weak_village": "否", "collective_operating_income": "60000", "pairing_unit": "省农业厅",
            "pairing_funds": "50000", "tech_extension_covered": "是", "processing_covered": "否",
            "has_mutual_aid_fund": "是",
        },
        "county_indicators": {
            "rural_per_capita_net_income": "15000", "dibao_standard": "5500", "dibao_min_topup": "90",
            "tech_demo_industries": "6", "processing_workers": "12000", "processing_fees": "300000000",
            "new_mutual_aid_funds": "3", "microcredit_guarantee_fund": "10000000",
            "microcredit_loans_outstanding": "60000000", "housing_need_households": "120",
            "housing_aided_households": "120", "rural_road_km": "85.5", "village_bus_access_pct": "96.5",
            "water_safety_people": "20000", "rural_edu_med_share_pct": "18.2",
        },
        "province_indicators": {"province_rural_per_capita_net_income": "17494", "benchmark_rate_pct": "6.0"},
        "project_funds": {
            "project_id": f"XM{year}-{n:03d}", "project_name": "塔山村高山蔬菜基地建设", "project_type": "产业发展",
            "village_code": f"{county}100001", "fund_source": "省级", "amount_allocated": "500000",
            "amount_disbursed": "500000", "beneficiary_households": "35", "announced_on": f"{year}-04-01",
            "announcement_ends_on": f"{year}-04-10",
        },
    }
    row = dict(rows[template_name])
    tpl = template(template_name)
    if tpl.fixed_county_code:
        row = {"year": str(year)} | row
    else:
        row = base | row
    for key_name, parts in tpl.pseudonyms.items():
        row[key_name] = HMAC(*(row.get(p) for p in parts))
    return row


def columns_of(template_name: str) -> list[str]:
    tpl = template(template_name)
    return tpl.column_names + list(tpl.pseudonyms)


def create_load_table(conn: psycopg.Connection, template_name: str, rows: list[dict[str, str | None]],
                      columns: list[str] | None = None) -> str:
    """Create and fill ``ops."load_test_<token>"`` as ingestion does; returns its qualified name."""
    columns = columns or columns_of(template_name)
    name = f"load_test_{uuid.uuid4().hex[:12]}"
    table = sql.Identifier("ops", name)
    conn.execute(sql.SQL("create unlogged table {} (_source_row integer not null, {})").format(
        table, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)))
    with conn.cursor().copy(sql.SQL("copy {} from stdin").format(table)) as copy:
        for number, row in enumerate(rows, start=3):  # rows 1-2: title and header, as in a county workbook
            copy.write_row([number] + [row.get(c) for c in columns])
    return f'ops."{name}"'


def seed_submission(conn: psycopg.Connection, template_name: str, rows: list[dict[str, str | None]],
                    county: str = COUNTY, year: int = YEAR) -> int:
    """A loaded submission with its rows in raw (what ingestion leaves after a good file)."""
    tpl = template(template_name)
    county = tpl.fixed_county_code or county
    sub_id = conn.execute(
        "insert into ops.submissions (file_name, sha256, county_code, template, year, status, rows_read, rows_loaded)"
        " values (%s, %s, %s, %s, %s, 'loaded', %s, %s) returning id",
        (f"{county}_{template_name}_{year}.csv", uuid.uuid4().hex * 2, county, template_name, year,
         len(rows), len(rows))).fetchone()[0]
    cols = [c for c in columns_of(template_name)]
    col_types = {c.name: c.pg_type for c in tpl.columns}
    typed = sql.SQL(", ").join(
        sql.SQL("{}::{}").format(sql.Placeholder(), sql.SQL(col_types.get(c, "text")))
        if col_types.get(c, "text") != "boolean" else sql.SQL("({} = '是')").format(sql.Placeholder())
        for c in cols)
    extra = [sql.Identifier("county_code")] if tpl.fixed_county_code else []
    insert = sql.SQL("insert into {} ({}, _submission_id, _source_row) values ({}, %s, %s)").format(
        sql.Identifier("raw", template_name), sql.SQL(", ").join(extra + [sql.Identifier(c) for c in cols]),
        sql.SQL(", ").join([sql.Literal(county)] * len(extra) + [typed]) if extra else typed)
    for number, row in enumerate(rows, start=3):
        conn.execute(insert, [row.get(c) for c in cols] + [sub_id, number])
    return sub_id
