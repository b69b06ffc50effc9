"""A small, hand-designed warehouse for the marts tests: five counties, years 2012, 2016 and 2017.

Rows go straight into the warehouse fact tables (the layer the marts read), so every expectation in
the tests is computed by hand from the numbers below, not by re-running the marts' SQL.

    A 330803 衢江区  Quzhou   29 + 12      C 330802 柯城区  Quzhou   29 (3 households in 2016)
    B 330881 江山市  Quzhou   29           D 330522 长兴县  Huzhou   developed, not 29
    E 331127 景宁县  Lishui   29 + 12

The numbers are chosen so that for every target some geographies meet it and some do not; the
comments next to them say which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

A, B, C, D, E = "330803", "330881", "330802", "330522", "331127"
COUNTIES = (A, B, C, D, E)

# received_at of the (fictitious) submissions the facts come from
VINTAGE = {
    2012: datetime(2013, 3, 1, tzinfo=UTC),
    2016: datetime(2017, 3, 1, tzinfo=UTC),
    2017: datetime(2018, 3, 1, tzinfo=UTC),
}


@dataclass
class Household:
    county: str
    year: int
    size: int
    net: int
    dibao: bool = False
    monitored: bool = True
    labour: int = 2
    employed: int = 2
    trained: int = 0
    consumption: int | None = None
    education: int = 0
    medical: int = 0
    education_aid: int = 0
    medical_aid: int = 0
    key: str | None = None          # the same household in several years (P5's "trained at least once")


def _same(county: str, year: int, n: int, size: int, net: int, **kw) -> list[Household]:
    return [Household(county, year, size, net, **kw) for _ in range(n)]


def households() -> list[Household]:
    rows: list[Household] = []
    # 2012 (base): A 5000, B 5000, C 4000, D 7000, E 6000 per capita
    rows += _same(A, 2012, 5, 2, 10000)
    rows += _same(B, 2012, 6, 2, 10000)
    rows += _same(C, 2012, 5, 2, 8000)
    rows += _same(D, 2012, 5, 2, 14000)
    rows += _same(E, 2012, 5, 2, 12000)
    # 2016: C has 3 households (primary suppression); B, with 6, is the smallest sibling (secondary)
    rows += _same(A, 2016, 7, 2, 18000, consumption=10000, education=1200, medical=800,
                  education_aid=200, medical_aid=300)                       # real share 15.0%
    # B: two households trained in 2016, not in 2017 (P5: trained at least once by 2017)
    rows += [Household(B, 2016, 2, 16000, trained=1, key="hB-trained-1"),
             Household(B, 2016, 2, 16000, trained=1, key="hB-trained-2")]
    rows += _same(B, 2016, 4, 2, 16000)
    rows += _same(C, 2016, 3, 2, 14000)
    rows += _same(D, 2016, 8, 2, 20000)
    # E: 8000 per capita on average; S2 (>= 8000) counts the two at exactly 8000 and the one at 10500,
    # T2 (> 8000) only the one at 10500
    e16 = dict(consumption=10000, education=1200, medical=800, education_aid=200, medical_aid=300)  # 15.0%
    rows += _same(E, 2016, 2, 2, 16000, **e16)                              # 8000
    rows += _same(E, 2016, 5, 2, 15000, **e16)                              # 7500
    rows += _same(E, 2016, 1, 2, 21000, **e16)                              # 10500
    # 2017
    t5 = dict(consumption=10000, education=1000, medical=800, medical_aid=200)  # real share 16.0%
    rows += [
        Household(A, 2017, 2, 26000, trained=1, **t5),                     # 13000 per capita
        Household(A, 2017, 2, 24000, trained=1, **t5),                     # 12000
        Household(A, 2017, 2, 22000, trained=1, **t5),                     # 11000
        Household(A, 2017, 2, 20000, trained=1, **t5),                     # 10000
        Household(A, 2017, 2, 15000, trained=1, employed=1, **t5),         # 7500
        Household(A, 2017, 2, 13000, dibao=True, trained=1, **t5),         # 6500, 低保
        # removed (退出) from the register: not monitored, must not count anywhere
        Household(A, 2017, 1, 90000, monitored=False),
    ]
    rows += [Household(B, 2017, 2, 20000, key="hB-trained-1"), Household(B, 2017, 2, 20000, key="hB-trained-2")]
    rows += _same(B, 2017, 4, 2, 20000)
    rows += [Household(C, 2017, 2, net) for net in (16000, 16000, 16000, 18000, 14000)]
    rows += _same(D, 2017, 5, 2, 32000)
    rows += [
        Household(E, 2017, 2, 18000, **t5),                                # 9000
        Household(E, 2017, 2, 18000, **t5),                                # 9000
        Household(E, 2017, 2, 17000, **t5),                                # 8500
        Household(E, 2017, 2, 16000, **t5),                                # 8000: not strictly above
        Household(E, 2017, 2, 14000, **t5),                                # 7000
        Household(E, 2017, 2, 13000, dibao=True, **t5),                    # 6500, 低保
    ]
    return rows


# county_indicators: per county and year
COUNTY_INDICATORS: dict[tuple[str, int], dict] = {}


def _ci(county: str, year: int, **values) -> None:
    base = dict(
        rural_per_capita_net_income=15000, dibao_standard=5000, dibao_min_topup=80, tech_demo_industries=5,
        processing_workers=0, processing_fees=0, new_mutual_aid_funds=0, microcredit_guarantee_fund=0,
        microcredit_loans_outstanding=0, housing_need_households=0, housing_aided_households=0,
        rural_road_km=0, village_bus_access_pct=90, water_safety_people=0, rural_edu_med_share_pct=None,
        mutual_aid_funds_total=None, urban_per_capita_disposable_income=None,
    )
    base.update(values)
    COUNTY_INDICATORS[(county, year)] = base


for _county in COUNTIES:
    _ci(_county, 2012, dibao_standard=3000, dibao_min_topup=50)
# S3 (the 12): farmers' income and urban income of 2012
_ci(A, 2012, dibao_standard=3000, dibao_min_topup=50, rural_per_capita_net_income=7000,
    urban_per_capita_disposable_income=24000)
_ci(E, 2012, dibao_standard=3000, dibao_min_topup=50, rural_per_capita_net_income=8000,
    urban_per_capita_disposable_income=25000)
_ci(A, 2016, rural_per_capita_net_income=11500, new_mutual_aid_funds=100, rural_road_km=1000,
    water_safety_people=300000, rural_edu_med_share_pct=10, urban_per_capita_disposable_income=34000)
_ci(B, 2016, new_mutual_aid_funds=50, rural_road_km=1500, water_safety_people=300000)
_ci(C, 2016, new_mutual_aid_funds=10, rural_road_km=500, water_safety_people=300000)
_ci(D, 2016, new_mutual_aid_funds=3, rural_road_km=2000, water_safety_people=300000, mutual_aid_funds_total=4)
_ci(E, 2016, rural_per_capita_net_income=10800, new_mutual_aid_funds=60, rural_road_km=1200,
    water_safety_people=300000, rural_edu_med_share_pct=14, urban_per_capita_disposable_income=30000)
_ci(A, 2017, rural_per_capita_net_income=12500, dibao_standard=5200, dibao_min_topup=90, tech_demo_industries=6,
    processing_workers=400000, processing_fees=4_000_000_000, new_mutual_aid_funds=150,
    microcredit_guarantee_fund=1_000_000, microcredit_loans_outstanding=6_000_000,
    housing_need_households=10, housing_aided_households=10, rural_road_km=800, village_bus_access_pct=96,
    water_safety_people=120000, rural_edu_med_share_pct=12, urban_per_capita_disposable_income=36000)
_ci(B, 2017, dibao_standard=5000, dibao_min_topup=80, tech_demo_industries=5,
    processing_workers=500000, processing_fees=5_000_000_000, new_mutual_aid_funds=50,
    microcredit_guarantee_fund=1_000_000, microcredit_loans_outstanding=4_000_000,
    housing_need_households=8, housing_aided_households=6, rural_road_km=700, village_bus_access_pct=98,
    water_safety_people=120000)
_ci(C, 2017, dibao_standard=5200, dibao_min_topup=70, tech_demo_industries=4,
    processing_workers=100000, processing_fees=1_000_000_000, new_mutual_aid_funds=10,
    housing_need_households=5, housing_aided_households=5, rural_road_km=300, village_bus_access_pct=94,
    water_safety_people=120000)
_ci(D, 2017, dibao_standard=6000, dibao_min_topup=100, new_mutual_aid_funds=2, mutual_aid_funds_total=6,
    microcredit_guarantee_fund=2_000_000, microcredit_loans_outstanding=10_000_000,
    housing_need_households=12, housing_aided_households=12, rural_road_km=900, village_bus_access_pct=100,
    water_safety_people=120000)
_ci(E, 2017, rural_per_capita_net_income=11800, dibao_standard=4800, dibao_min_topup=85, tech_demo_industries=5,
    processing_workers=350000, processing_fees=2_500_000_000, new_mutual_aid_funds=70,
    microcredit_guarantee_fund=500_000, microcredit_loans_outstanding=3_000_000,
    housing_need_households=6, housing_aided_households=3, rural_road_km=600, village_bus_access_pct=92,
    water_safety_people=120000, rural_edu_med_share_pct=13, urban_per_capita_disposable_income=30000)

PROVINCE = {  # year: (province rural per-capita net income, benchmark rate %, province urban income)
    2012: (10000, 6.0, 30000),
    2016: (16000, 4.35, 40000),
    2017: (17000, 4.35, 42000),
}

# villages 2017: (county, key, weak, collective income, pairing funds, tech extension, processing covered);
# no pairing funds = no pairing unit
VILLAGES = [
    (A, True, False, 60000, 50000, True, True),
    (A, True, False, 50000, 60000, True, True),
    (A, True, False, 40000, 50000, False, True),
    (A, True, False, 70000, 50000, False, True),
    (A, False, True, 55000, None, False, False),
    (E, True, False, 50000, 40000, True, True),
    (E, True, False, 50000, 60000, False, False),
    (D, False, True, 80000, None, False, False),
    (E, True, False, 50000, None, True, True),        # a key village without a pairing unit (not in M2)
]

# programme participation 2017: (county, programme, persons, income, loan rate %, on time, subsidy)
PARTICIPATION = (
    [(A, "agritourism", 2, income, None, None, None) for income in (60000, 55000, 50000, 45000, 40000)]
    + [(E, "agritourism", 2, income, None, None, None) for income in (30000, 40000, 50000, 60000, 20000)]
    + [(A, "microcredit", 1, None, rate, on_time, subsidy) for rate, on_time, subsidy in (
        (5.0, True, 300), (6.09, True, 300), (6.0, True, 300), (5.5, True, 0), (4.35, False, 0))]
    + [(E, "microcredit", 1, None, rate, True, 200) for rate in (6.5, 5.0, 5.0, 5.0, 5.0)]
    + [(A, "processing", 2, 20000, None, None, None) for _ in range(5)]
    + [(A, "training", 1, None, None, None, None) for _ in range(5)]
    # index 30: an agritourism operator outside the key villages (P3 leaves it out)
    + [(A, "agritourism", 2, 90000, None, None, None)]
    + [(A, "household_industry", 1, 30000, None, None, None) for _ in range(5)]
    + [(A, "employment", 2, 24000, None, None, None) for _ in range(5)]
    + [(E, "public_welfare_job", 1, 12000, None, None, None) for _ in range(6)]
)
# where the participating households live (dim_household, 2017): index in PARTICIPATION -> village index in
# VILLAGES. A's five operators live in A's first (key) village, E's five in E's first; the sixth A operator
# in A's weak, non-key village.
PARTICIPANT_VILLAGES = {**{i: 0 for i in range(5)}, **{i: 5 for i in range(5, 10)}, 30: 4}


def _insert(conn: psycopg.Connection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    placeholders = ", ".join(["%s"] * len(columns))
    with conn.cursor() as cur:
        cur.executemany(
            f"insert into warehouse.{table} ({', '.join(columns)}) values ({placeholders})",
            [tuple(r[c] for c in columns) for r in rows],
        )


FACT_TABLES = ("fct_household_income", "fct_household_status_change", "fct_relocation",
               "fct_program_participation", "fct_village_economy", "fct_county_indicator",
               "fct_province_indicator", "dim_household")


def load(conn: psycopg.Connection) -> None:
    """Replace every warehouse fact table's content with the fixture."""
    for table in FACT_TABLES:
        conn.execute(f"truncate warehouse.{table}")
    income, status = [], []
    for i, h in enumerate(households()):
        key = h.key or f"h{h.county}-{i}"
        real = None
        if h.consumption is not None:
            real = h.education + h.medical - h.education_aid - h.medical_aid
        income.append(dict(
            income_key=f"{key}-{h.year}", household_key=key, county_code=h.county, year=h.year,
            status="在册" if h.monitored else "退出", is_dibao=h.dibao, is_monitored=h.monitored,
            household_size=h.size, labour_count=h.labour, wage_income=h.net, business_income=0, property_income=0,
            transfer_income=0, net_income=h.net, per_capita_net_income=round(h.net / h.size, 2),
            consumption_expenditure=h.consumption, education_expenditure=h.education if h.consumption else None,
            medical_expenditure=h.medical if h.consumption else None,
            education_aid=h.education_aid if h.consumption else None,
            medical_aid=h.medical_aid if h.consumption else None, real_edu_med_spending=real,
            employed_labour=h.employed, trained_persons=h.trained, submission_id=h.year, vintage=VINTAGE[h.year],
        ))
        status.append(dict(status_change_key=f"{key}-{h.year}", household_key=key, county_code=h.county,
                           year=h.year, previous_year=None, previous_status=None,
                           status="在册" if h.monitored else "退出",
                           change_type="entered" if h.monitored else "removed",
                           submission_id=h.year, vintage=VINTAGE[h.year]))
    _insert(conn, "fct_household_income", income)
    _insert(conn, "fct_household_status_change", status)

    _insert(conn, "fct_county_indicator", [
        dict(county_year_key=f"{county}-{year}", county_code=county, year=year, **values,
             submission_id=year, vintage=VINTAGE[year])
        for (county, year), values in COUNTY_INDICATORS.items()
    ])
    _insert(conn, "fct_province_indicator", [
        dict(year=year, province_rural_per_capita_net_income=income_, benchmark_rate_pct=rate,
             province_urban_per_capita_disposable_income=urban, submission_id=year, vintage=VINTAGE[year])
        for year, (income_, rate, urban) in PROVINCE.items()
    ])
    _insert(conn, "fct_village_economy", [
        dict(village_key=f"{county}{i:06d}-2017", village_code=f"{county}{i:06d}", county_code=county, year=2017,
             is_key_village=key, is_weak_village=weak, collective_operating_income=income_, pairing_funds=funds,
             has_pairing_unit=funds is not None, tech_extension_covered=tech, processing_covered=processing,
             has_mutual_aid_fund=False, submission_id=2017, vintage=VINTAGE[2017])
        for i, (county, key, weak, income_, funds, tech, processing) in enumerate(VILLAGES)
    ])
    _insert(conn, "dim_household", [
        dict(household_version_key=f"p{i}-2017", household_key=f"p{i}", county_code=VILLAGES[v][0],
             village_code=f"{VILLAGES[v][0]}{v:06d}", status="在册", is_dibao=False, household_size=2, labour_count=2,
             poverty_cause="其他", identified_year=2012, valid_from_year=2017, valid_to_year=None, is_current=True)
        for i, v in PARTICIPANT_VILLAGES.items()
    ])
    _insert(conn, "fct_program_participation", [
        dict(participation_key=f"p{i}-{program}-2017", household_key=f"p{i}", county_code=county, year=2017,
             program_code=program, persons=persons, program_income=income_,
             loan_amount=20000 if program == "microcredit" else None, loan_rate_pct=rate, repaid_on_time=on_time,
             interest_subsidy=subsidy, submission_id=2017, vintage=VINTAGE[2017])
        for i, (county, program, persons, income_, rate, on_time, subsidy) in enumerate(PARTICIPATION)
    ])
    load_relocations(conn)


def load_relocations(conn: psycopg.Connection) -> None:
    """R1-R3. 2017: A 1500 households x 30 persons (高山远山, 40 m2 quota, full subsidy), E 500 x 30
    (地质灾害隐患, 80 m2 quota; 100 of them over quota; household subsidy 5000 instead of 5600):
    60,000 persons over the 29 counties. 2016: A 100 x 10 persons."""
    conn.execute(
        """
        insert into warehouse.fct_relocation (relocation_year_key, relocation_key, county_code, year, household_key, from_village_code,
            relocation_type, settlement_type, persons, move_date, household_subsidy, county_infra_subsidy,
            land_area_m2, land_quota_m2_per_person, homestead_reclaimed, submission_id, vintage)
        select 'rA17-' || g || '-2017', 'rA17-' || g, %(a)s, 2017, null, %(a)s || '100001', '高山远山', '县城', 30, date '2017-06-01',
               5600 * 30, 2800 * 30, 40 * 30, 40, true, 2017, %(v17)s
        from generate_series(1, 1500) as g
        union all
        select 'rE17-' || g || '-2017', 'rE17-' || g, %(e)s, 2017, null, %(e)s || '100001', '地质灾害隐患', '中心镇', 30, date '2017-06-01',
               5000 * 30, 2800 * 30, case when g <= 100 then 90 * 30 else 80 * 30 end, 80, false, 2017, %(v17)s
        from generate_series(1, 500) as g
        union all
        select 'rA16-' || g || '-2016', 'rA16-' || g, %(a)s, 2016, null, %(a)s || '100001', '高山远山', '县城', 10, date '2016-06-01',
               5600 * 10, 2800 * 10, 40 * 10, 40, true, 2016, %(v16)s
        from generate_series(1, 100) as g
        """,
        {"a": A, "e": E, "v17": VINTAGE[2017], "v16": VINTAGE[2016]},
    )


# ops.submissions (the ledger) for submission_completeness, all for 2017:
#   A household_income  loaded 2018-03-01                       -> on time
#   B household_income  rejected 03-20, then loaded 04-15 with 4 of 10 rows rejected -> late (15 days), 40.0%
#   C households        loaded 01-10, superseded by a forced submission (上报说明) on 01-20 -> on time, forced
#   D county_indicators loaded 2018-03-31 23:30 Asia/Shanghai   -> on time (the deadline day counts)
#   E county_indicators loaded 2018-04-01 00:30 Asia/Shanghai   -> late by one day
#   330000 province_indicators loaded 2018-04-20                -> on time
#   E relocations       nothing                                 -> missing
SUBMISSIONS = [
    # (key, county, template, status, received_at, rows_read, rows_rejected, explanation, superseded_by key)
    ("a_inc", A, "household_income", "loaded", "2018-03-01 10:00+08", 6, 0, None, None),
    ("b_rej", B, "household_income", "rejected", "2018-03-20 10:00+08", 0, 0, None, None),
    ("b_inc", B, "household_income", "loaded", "2018-04-15 10:00+08", 10, 4, None, None),
    ("c_old", C, "households", "superseded", "2018-01-10 10:00+08", 5, 0, None, "c_new"),
    ("c_new", C, "households", "loaded", "2018-01-20 10:00+08", 5, 0, "部分农户人口变动已核实", None),
    ("d_ci", D, "county_indicators", "loaded", "2018-04-01 02:00+08", 1, 0, None, None),
    ("e_ci", E, "county_indicators", "loaded", "2018-04-01 00:30+08", 1, 0, None, None),
    ("p_pi", "330000", "province_indicators", "loaded", "2018-04-20 10:00+08", 1, 0, None, None),
]
EXPLANATION = "部分农户人口变动已核实"
# The receipt date a file carries (ops.submissions.received_on) when it is not the day of its night:
# D's indicators arrived on 31 March, the deadline, and were loaded the night after.
RECEIPT_DATES = {"d_ci": "2018-03-31"}


def load_submissions(conn: psycopg.Connection) -> dict[str, int]:
    """Ledger rows (ids by key); the facts above do not depend on them."""
    ids: dict[str, int] = {}
    for key, county, template, status, received, read, rejected, explanation, _ in SUBMISSIONS:
        loaded = 0 if status == "rejected" else read - rejected
        ids[key] = conn.execute(
            """
            insert into ops.submissions (file_name, sha256, county_code, template, year, status, rows_read,
                rows_loaded, rows_rejected, received_at, explanation, reason, reason_code, received_on)
            values (%s, %s, %s, %s, 2017, %s, %s, %s, %s, %s, %s, %s, %s,
                    coalesce(%s::date, (%s::timestamptz at time zone 'Asia/Shanghai')::date)) returning id
            """,
            (f"{county}_{template}_2017_{key}.csv", f"{key:0>64}", county, template, status,
             read if status != "rejected" else 0, loaded, rejected if status != "rejected" else 0, received,
             explanation, "缺少必填列" if status == "rejected" else None,
             "missing_column" if status == "rejected" else None, RECEIPT_DATES.get(key), received),
        ).fetchone()[0]
    for key, *_rest, superseded_by in SUBMISSIONS:
        if superseded_by:
            conn.execute("update ops.submissions set superseded_by = %s where id = %s", (ids[superseded_by], ids[key]))
    return ids
