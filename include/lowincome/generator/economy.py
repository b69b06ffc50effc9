"""Each county's economic parameters, and the seeded random streams everything is drawn from.

Every draw comes from a generator seeded with (seed, county, year, stream), so a county-year's files
do not depend on which other counties or years are generated, nor on the order they are written in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from lowincome.generator.counties import County

BASE_YEAR = 2012
PLAN_YEARS = range(2013, 2018)

# Province statistics (rural per-capita net income, yuan) and the one-year benchmark lending rate (%).
PROVINCE_RURAL_INCOME = {2012: 14552, 2013: 16106, 2014: 19373, 2015: 21125, 2016: 22866, 2017: 24956}
BENCHMARK_RATE = {2012: 6.0, 2013: 6.0, 2014: 5.6, 2015: 4.35, 2016: 4.35, 2017: 4.35}


class Stream(IntEnum):
    ECONOMY = 1
    VILLAGES = 2
    PANEL = 3
    INCOME = 4
    PROGRAMS = 5
    RELOCATIONS = 6
    VILLAGE_YEAR = 7
    INDICATORS = 8
    MESSY = 9
    PROJECTS = 10


def rng_for(seed: int, county_code: str, year: int, stream: Stream) -> np.random.Generator:
    return np.random.default_rng([seed, int(county_code), year, int(stream)])


def province_rural_income(year: int) -> int:
    if year in PROVINCE_RURAL_INCOME:
        return PROVINCE_RURAL_INCOME[year]
    last = max(PROVINCE_RURAL_INCOME)
    if year > last:
        return round(PROVINCE_RURAL_INCOME[last] * 1.08 ** (year - last))
    return round(PROVINCE_RURAL_INCOME[BASE_YEAR] / 1.08 ** (BASE_YEAR - year))


def benchmark_rate(year: int) -> float:
    return BENCHMARK_RATE.get(year, 4.35)


@dataclass(frozen=True)
class Economy:
    """What sets a county's figures apart; drawn once per county, so they persist across years."""

    lowincome_income_2012: float  # mean per-capita net income of its low-income households
    lowincome_growth: float  # yearly growth of that income
    rural_income_2012: float  # all rural residents, per capita
    rural_growth: float
    dibao_2012: float
    dibao_growth: float
    topup_2012: float
    topup_step: float
    processing_workers_2012: float
    processing_fee_per_worker_2012: float
    guarantee_fund_2012: float
    leverage_2012: float
    housing_need: float
    road_km: float
    bus_access_2012: float
    water_people: float
    edu_med_share: float
    tech_industries_2012: float
    mutual_aid_rate: float
    coastal: bool


_COASTAL_CITIES = {"330200", "330300", "330900", "331000"}


def county_economy(county: County, seed: int) -> Economy:
    rng = rng_for(seed, county.code, BASE_YEAR, Stream.ECONOMY)
    pop = county.rural_population_10k
    u = rng.random(20).tolist()
    if county.is_29:
        # the panel's household mix (低保, the sick, newcomers) brings the register mean ~6% below this
        low_2012 = 4900 + 1950 * u[0]
        # the 12 counties got special support 2014–2016: faster growth on average
        growth = 0.135 + 0.045 * u[1] if county.is_12 else 0.11 + 0.07 * u[1]
        rural_2012 = 9500 + 4000 * u[2]
        dibao = 3000 + 1300 * u[3]
        workers_per_10k = 900 * (0.6 + 0.8 * u[4])
        housing_per_10k = 40 + 40 * u[5]
        road = 80 + 220 * u[6]
        tech = 2 + 3 * u[7]
        mutual = 3.5
    else:
        low_2012 = 6500 + 3000 * u[0]
        growth = 0.09 + 0.04 * u[1]
        rural_2012 = 14000 + 7000 * u[2]
        dibao = 4200 + 3300 * u[3]
        workers_per_10k = 400 * (0.5 + u[4])
        housing_per_10k = 10 + 30 * u[5]
        road = 20 + 150 * u[6]
        tech = 1 + 7 * u[7]
        mutual = 1.5
    return Economy(
        lowincome_income_2012=low_2012,
        lowincome_growth=growth,
        rural_income_2012=rural_2012,
        rural_growth=0.08 + 0.035 * u[8],
        dibao_2012=dibao,
        # fast enough that nearly every county passes 5,000 by 2017, some only late
        dibao_growth=0.09 + 0.07 * u[9],
        topup_2012=55 + 35 * u[10],
        topup_step=4 + 5 * u[11],
        processing_workers_2012=pop * workers_per_10k,
        processing_fee_per_worker_2012=6500 + 3000 * u[12],
        guarantee_fund_2012=pop * (150_000 + 250_000 * u[13]),
        leverage_2012=2.5 + 2.0 * u[14],
        housing_need=pop * housing_per_10k,
        road_km=road,
        bus_access_2012=80 + 15 * u[15],
        water_people=3000 + 37000 * u[16],
        edu_med_share=11 + 6 * u[17],
        tech_industries_2012=tech,
        mutual_aid_rate=mutual,
        coastal=county.city_code in _COASTAL_CITIES,
    )
