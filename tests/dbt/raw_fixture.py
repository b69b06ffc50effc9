"""Raw-layer fixture rows, written straight into raw.<template> and ops.submissions as the loader would.

Two counties (衢江区, one of the 29 and the 12; 萧山区, developed), registers 2012-2015 with the lifecycles
the warehouse must get right: a household lifted out, one removed and re-entering after a year away, one
returning to poverty (返贫), one whose size changes, one first seen in 2013; plus income, relocations,
programmes, villages, county and province indicators, and one superseded income file.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from lowincome.pseudonym import make_hasher
from lowincome.templates import template

KEY = "test-key-not-a-secret"
QUJIANG, XIAOSHAN = "330803", "330109"
YEARS = (2012, 2013, 2014, 2015)
_clock = itertools.count()
_T0 = datetime(2016, 1, 1, tzinfo=UTC)

# household number -> status per year (None: not in that year's register)
LIFECYCLES: dict[str, dict[int, str | None]] = {
    "H001": {2012: "在册", 2013: "在册", 2014: "脱贫", 2015: "脱贫"},   # lifted out
    "H002": {2012: "在册", 2013: "退出", 2014: None, 2015: "新增"},     # removed, re-enters after a gap
    "H003": {2012: None, 2013: "新增", 2014: "在册", 2015: "在册"},     # first seen 2013
    "H004": {2012: "在册", 2013: "脱贫", 2014: "在册", 2015: "在册"},   # returns to poverty 2014
    "H005": {2012: "在册", 2013: "在册", 2014: "在册", 2015: "在册"},   # size 4 -> 5 in 2014, 低保
    "H006": {2012: "在册", 2013: "在册", 2014: "在册", 2015: "在册"},
}
XIAOSHAN_HOUSEHOLDS = ("X01", "X02", "X03")
NAMES = {"H001": "王建华", "H002": "陈秀英", "H003": "李国平", "H004": "张美兰", "H005": "吴永春",
         "H006": "徐桂花", "X01": "金福寿", "X02": "周丽娟", "X03": "刘志强"}


def id_number(county: str, household: str) -> str:
    serial = int(hashlib.sha256(household.encode()).hexdigest()[:6], 16) % 1000
    return f"{county}1960{int(hashlib.md5(household.encode()).hexdigest()[:2], 16) % 12 + 1:02d}15{serial:03d}X"


def next_vintage() -> datetime:
    return _T0 + timedelta(hours=next(_clock))


def load_submission(conn: psycopg.Connection, template_name: str, county_code: str, year: int,
                    rows: list[dict], received_at: datetime | None = None) -> int:
    """Ledger row (status loaded; the previous loaded one superseded) and raw rows, like ingestion."""
    tpl = template(template_name)
    received_at = received_at or next_vintage()
    sha = hashlib.sha256(f"{template_name}{county_code}{year}{received_at}{rows}".encode()).hexdigest()
    hasher = make_hasher(KEY)
    with conn.transaction():
        submission_id = conn.execute(
            "insert into ops.submissions (file_name, sha256, county_code, template, year, status, rows_read,"
            " rows_loaded, received_at) values (%s, %s, %s, %s, %s, 'loaded', %s, %s, %s) returning id",
            (f"{county_code}_{template_name}_{year}.csv", sha, county_code, template_name, year, len(rows),
             len(rows), received_at),
        ).fetchone()[0]
        conn.execute(
            "update ops.submissions set status = 'superseded', superseded_by = %s where status = 'loaded'"
            " and county_code = %s and template = %s and year = %s and id <> %s",
            (submission_id, county_code, template_name, year, submission_id),
        )
        for number, row in enumerate(rows, start=2):
            values = {"county_code": county_code, "year": year, **row}
            for key, parts in tpl.pseudonyms.items():
                values[key] = hasher(*(str(values.get(p) or "") for p in parts))
            values["_submission_id"] = submission_id
            values["_source_row"] = number
            columns = list(values)
            conn.execute(
                sql.SQL("insert into raw.{} ({}) values ({})").format(
                    sql.Identifier(template_name), sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns))),
                [values[c] for c in columns],
            )
    return submission_id


# --- the rows ------------------------------------------------------------------------------------
def register_rows(county: str, year: int, overrides: dict[str, dict] | None = None) -> list[dict]:
    rows = []
    households = LIFECYCLES if county == QUJIANG else {h: dict.fromkeys(YEARS, "在册") for h in XIAOSHAN_HOUSEHOLDS}
    for number, (household, statuses) in enumerate(households.items()):
        status = statuses.get(year)
        if status is None:
            continue
        size = 5 if household == "H005" and year >= 2014 else 4
        row = {
            "township_name": "樟潭街道" if county == QUJIANG else "河上镇",
            "village_code": f"{county}10{number % 2 + 1:04d}",
            "village_name": "沙湾村" if number % 2 == 0 else "上坞村",
            "household_id": household,
            "head_name": NAMES[household],
            "head_id_number": id_number(county, household),
            "household_size": size,
            "labour_count": 2,
            "is_dibao": household == "H005",
            "identified_year": 2013 if household == "H003" else 2012,
            "poverty_cause": "因病" if number % 2 else "缺技术",
            "status": status,
        }
        row.update((overrides or {}).get(household, {}))
        rows.append(row)
    return rows


def income_rows(county: str, year: int, scale: float = 1.0) -> list[dict]:
    rows = []
    for row in register_rows(county, year):
        if row["status"] == "退出":
            continue
        base = (6000 + 900 * (year - 2012) + 250 * int(row["household_id"][-1])) * scale
        wage, business, prop, transfer = round(base * 2), round(base), 200, 800
        net = wage + business + prop + transfer
        rows.append({
            "household_id": row["household_id"], "household_size": row["household_size"],
            "wage_income": wage, "business_income": business, "property_income": prop,
            "transfer_income": transfer, "net_income": net,
            "per_capita_net_income": round(net / row["household_size"], 2),
            "consumption_expenditure": 12000, "education_expenditure": 1500, "medical_expenditure": 2500,
            "education_aid": 300, "medical_aid": 700, "employed_labour": 2, "trained_persons": 1,
        })
    return rows


def relocation_rows(county: str, year: int) -> list[dict]:
    return [
        {"relocation_id": f"R{year}01", "household_id": "H002", "from_village_code": f"{county}100001",
         "relocation_type": "地质灾害隐患", "settlement_type": "中心镇", "settlement_site": "樟潭新村",
         "persons": 3, "move_date": f"{year}-05-10", "household_subsidy": 16800,
         "county_infra_subsidy": 8400, "land_area_m2": 220, "homestead_reclaimed": True},
        {"relocation_id": f"R{year}02", "household_id": None, "from_village_code": f"{county}100002",
         "relocation_type": "高山远山", "settlement_type": "县城", "settlement_site": None,
         "persons": 2, "move_date": f"{year}-09-01", "household_subsidy": 11200,
         "county_infra_subsidy": 5600, "land_area_m2": 80, "homestead_reclaimed": False},
    ]


def participation_rows(county: str, year: int) -> list[dict]:
    base = {"persons": 1, "program_income": None, "loan_amount": None, "loan_rate_pct": None,
            "repaid_on_time": None, "interest_subsidy": None}
    return [
        {**base, "household_id": "H001", "program": "技能培训"},
        {**base, "household_id": "H001", "program": "小额贷款", "loan_amount": 50000, "loan_rate_pct": 6.5,
         "repaid_on_time": True, "interest_subsidy": 1200},
        {**base, "household_id": "H003", "program": "农家乐", "program_income": 56000, "persons": 2},
        {**base, "household_id": "H004", "program": "来料加工", "program_income": 9000},
        {**base, "household_id": "H006", "program": "公益性岗位", "program_income": 12000},
    ]


def village_rows(county: str, year: int) -> list[dict]:
    return [
        {"village_code": f"{county}100001", "village_name": "沙湾村", "is_key_village": True,
         "is_weak_village": False, "collective_operating_income": 48000 + 2000 * (year - 2012),
         "pairing_unit": "省农业厅", "pairing_funds": 60000, "tech_extension_covered": True,
         "processing_covered": False, "has_mutual_aid_fund": True},
        {"village_code": f"{county}100002", "village_name": "上坞村", "is_key_village": False,
         "is_weak_village": True, "collective_operating_income": 30000, "pairing_unit": None,
         "pairing_funds": None, "tech_extension_covered": False, "processing_covered": True,
         "has_mutual_aid_fund": False},
    ]


def county_indicator_rows(county: str, year: int) -> list[dict]:
    return [{
        "rural_per_capita_net_income": 11000 + 1000 * (year - 2012), "dibao_standard": 4800 + 200 * (year - 2012),
        "dibao_min_topup": 80, "tech_demo_industries": 5, "processing_workers": 1200, "processing_fees": 3.2e7,
        "new_mutual_aid_funds": 2, "microcredit_guarantee_fund": 2e6, "microcredit_loans_outstanding": 1.1e7,
        "housing_need_households": 40, "housing_aided_households": 38, "rural_road_km": 35.5,
        "village_bus_access_pct": 96.5, "water_safety_people": 5000, "rural_edu_med_share_pct": 18.5,
    }]


def province_rows(year: int) -> list[dict]:
    return [{"province_rural_per_capita_net_income": 14552 + 1500 * (year - 2012),
             "benchmark_rate_pct": 6.0 if year < 2015 else 4.35}]


def load_year(conn: psycopg.Connection, year: int, templates: tuple[str, ...] | None = None) -> None:
    """Every file of a year, in the order counties send them."""
    wanted = templates or ("households", "household_income", "relocations", "program_participation", "villages",
                           "county_indicators", "province_indicators")
    for county in (QUJIANG, XIAOSHAN):
        makers = {
            "households": lambda c=county: register_rows(c, year),
            "household_income": lambda c=county: income_rows(c, year),
            "relocations": lambda c=county: relocation_rows(c, year) if c == QUJIANG else [],
            "program_participation": lambda c=county: participation_rows(c, year) if c == QUJIANG else [],
            "villages": lambda c=county: village_rows(c, year),
            "county_indicators": lambda c=county: county_indicator_rows(c, year),
        }
        for name, make in makers.items():
            rows = make()
            if name in wanted and rows:
                load_submission(conn, name, county, year, rows)
    if "province_indicators" in wanted:
        load_submission(conn, "province_indicators", "330000", year, province_rows(year))


def load_demo(conn: psycopg.Connection, years: tuple[int, ...] = YEARS) -> None:
    """All years, plus a first income file of 衢江 2013 that a corrected one superseded."""
    for year in years:
        if year == 2013:
            load_submission(conn, "household_income", QUJIANG, 2013, income_rows(QUJIANG, 2013, scale=0.5))
        load_year(conn, year)


def personal_values(conn: psycopg.Connection) -> tuple[set[str], set[str]]:
    """(names, ID numbers) in raw.households: what must never appear outside raw."""
    rows = conn.execute("select head_name, head_id_number from raw.households").fetchall()
    return {r[0] for r in rows if r[0]}, {r[1] for r in rows if r[1]}
