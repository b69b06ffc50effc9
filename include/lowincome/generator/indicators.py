"""County indicators (one row per county and year) and the statistics bureau's province indicators.

County indicators describe the whole county, so most do not shrink with ``scale``; the two the
reconciliation mart checks against the households' records (来料加工 workers and fees) are what the
county's generated participation records add up to, within 3% (:func:`match_participation`), so that
the comparison means something at any scale.
"""

from __future__ import annotations

from lowincome.generator.counties import PROVINCE_CODE, PROVINCE_NAME, County
from lowincome.generator.economy import (
    BASE_YEAR,
    Economy,
    Stream,
    benchmark_rate,
    province_rural_income,
    rng_for,
)
from lowincome.generator.writers import Table, table_from_columns


def county_indicators_table(county: County, economy: Economy, year: int, seed: int) -> Table:
    rng = rng_for(seed, county.code, year, Stream.INDICATORS)
    t = year - BASE_YEAR
    u = rng.random(12).tolist()
    rural_income = round(economy.rural_income_2012 * (1 + economy.rural_growth) ** t * (0.99 + 0.02 * u[0]))
    dibao = round(economy.dibao_2012 * (1 + economy.dibao_growth) ** t, -1)
    topup = round(economy.topup_2012 + economy.topup_step * t)
    workers = round(economy.processing_workers_2012 * 1.06 ** t * (0.95 + 0.1 * u[1]))
    fees = round(workers * economy.processing_fee_per_worker_2012 * 1.06 ** t, -3)
    fund = round(economy.guarantee_fund_2012 * 1.1 ** t, -3)
    leverage = economy.leverage_2012 + 0.35 * t + 0.3 * u[2]
    need = max(1, round(economy.housing_need * 0.9 ** t * (0.9 + 0.2 * u[3])))
    aided = min(need, int(need * min(1.0, 0.74 + 0.05 * t + 0.15 * u[4])))
    columns = {
        "county_code": [county.code],
        "year": [year],
        "rural_per_capita_net_income": [float(rural_income)],
        "dibao_standard": [float(dibao)],
        "dibao_min_topup": [float(topup)],
        "tech_demo_industries": [int(round(economy.tech_industries_2012 + 0.6 * t + u[5]))],
        "processing_workers": [int(workers)],
        "processing_fees": [float(fees)],
        "new_mutual_aid_funds": [int(rng.poisson(economy.mutual_aid_rate))],
        "microcredit_guarantee_fund": [float(fund)],
        "microcredit_loans_outstanding": [float(round(fund * leverage, -3))],
        "housing_need_households": [need],
        "housing_aided_households": [aided],
        "rural_road_km": [round(economy.road_km * (0.8 + 0.4 * u[6]), 1)],
        "village_bus_access_pct": [round(min(100.0, economy.bus_access_2012 + (1.5 + u[7]) * t), 1)],
        "water_safety_people": [int(round(economy.water_people * (0.8 + 0.4 * u[8]), -1))],
        "rural_edu_med_share_pct": [round(economy.edu_med_share + 0.5 * (u[9] - 0.5), 1)],
        # optional columns (F2's stock, S3's urban gap): funds in existence grow by about the yearly new
        # ones; urban income about twice the rural, the ratio slowly falling as in Zhejiang 2012-2017
        "mutual_aid_funds_total": [int(round(economy.mutual_aid_rate * (2 + t) * (0.8 + 0.4 * u[10])))],
        "urban_per_capita_disposable_income": [float(round(
            rural_income * (URBAN_RURAL_RATIO_2012 + 0.004 * (int(county.code) % 50) - 0.02 * t + 0.02 * u[11])))],
    }
    return table_from_columns("county_indicators", county.code, county.name, year, columns)


PROCESSING = ("来料加工", "processing")
URBAN_RURAL_RATIO_2012 = 2.3        # a county's urban / rural per-capita income in 2012 (Zhejiang: 2.37)
PROVINCE_URBAN_INCOME_2012 = 34550  # 全省城镇居民人均可支配收入 2012 (yuan)


def province_urban_income(year: int) -> int:
    """The province's urban per-capita disposable income, growing about 9% a year from 2012."""
    return round(PROVINCE_URBAN_INCOME_2012 * 1.09 ** (year - BASE_YEAR))


def match_participation(indicators: Table, programs: Table, seed: int) -> None:
    """Set the county's processing workers and fees to its participation records' sums, within 3%."""
    rng = rng_for(seed, indicators.county_code, indicators.year, Stream.INDICATORS)
    rng.random(12)   # past the draws of county_indicators_table
    column = {name: programs.columns.index(name) for name in ("program", "persons", "program_income")}
    taken = [r for r in programs.rows if r[column["program"]] in PROCESSING]
    persons = sum(r[column["persons"]] or 0 for r in taken)
    income = sum(r[column["program_income"]] or 0 for r in taken)
    noise = 0.97 + 0.06 * rng.random(2)
    row = indicators.rows[0]
    row[indicators.columns.index("processing_workers")] = int(round(persons * noise[0]))
    row[indicators.columns.index("processing_fees")] = float(round(income * noise[1], -1))


def province_indicators_table(year: int) -> Table:
    columns = {
        "year": [year],
        "province_rural_per_capita_net_income": [float(province_rural_income(year))],
        "benchmark_rate_pct": [benchmark_rate(year)],
        "province_urban_per_capita_disposable_income": [float(province_urban_income(year))],
    }
    return table_from_columns("province_indicators", PROVINCE_CODE, PROVINCE_NAME, year, columns)
