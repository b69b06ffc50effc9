"""A county's yearly list of projects and their funds (扶贫项目资金公告表, the plan's 公告公示).

Counties send it from the plan's first year (:data:`FIRST_YEAR`, 2013) on, due with the annual files by
31 March (``reporting_calendar.csv``). A project list is an administrative record of the whole county,
but its projects are placed in the generated villages, so its number follows the village roster (it
shrinks with ``scale`` more slowly than the households do). Most projects are in key and weak villages;
training and financial projects are often county-wide (no village). What real lists look like:

* most projects fully disbursed by 31 December, some partly, a few not yet (arranged late in the year);
* about 1 in 12 not announced (no 公示日期), about 1 in 25 announced in December with the period ending
  in January of the next year - the two cases the disclosure mart flags;
* amounts often in 万元 (a county habit, said in the header), sources written ``省级财政`` by some
  counties (accepted and mapped to ``省级``).

No personal data: projects name villages and settlements, never a household.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from lowincome.generator.counties import County
from lowincome.generator.economy import BASE_YEAR, Stream, rng_for
from lowincome.generator.styles import SubmissionStyle
from lowincome.generator.villages import VillageRoster
from lowincome.generator.writers import Table, table_from_columns

TEMPLATE = "project_funds"
FIRST_YEAR = 2013            # the plan's 公告公示 starts with the plan
MIN_PROJECTS = 20
AMOUNT_COLUMNS = ("amount_allocated", "amount_disbursed")

# type: (share in the 29 counties, share elsewhere, typical allocation in yuan, county-wide share)
TYPES: dict[str, tuple[float, float, float, float]] = {
    "产业发展": (0.30, 0.28, 400_000, 0.05),
    "基础设施": (0.24, 0.26, 700_000, 0.0),
    "异地搬迁": (0.10, 0.04, 900_000, 0.0),
    "来料加工": (0.07, 0.08, 80_000, 0.2),
    "农家乐": (0.06, 0.08, 150_000, 0.0),
    "培训": (0.07, 0.10, 60_000, 0.8),
    "金融扶贫": (0.05, 0.06, 300_000, 0.9),
    "村级集体经济": (0.09, 0.08, 500_000, 0.0),
    "其他": (0.02, 0.02, 100_000, 0.3),
}
WORKS: dict[str, tuple[str, ...]] = {
    "产业发展": ("高山蔬菜基地建设", "茶园提升改造", "香榧种植基地建设", "食用菌产业园", "中药材种植示范", "油茶林改造"),
    "基础设施": ("村道硬化", "饮水安全工程", "机耕路建设", "河道堤防加固", "危桥改造", "文化礼堂建设"),
    "异地搬迁": ("下山搬迁安置点配套设施", "搬迁安置小区道路建设", "搬迁户宅基地复垦"),
    "来料加工": ("来料加工点建设", "来料加工经纪人培育"),
    "农家乐": ("农家乐特色村提升", "乡村旅游接待中心建设"),
    "培训": ("低收入农户实用技术培训", "农村劳动力转移就业培训"),
    "金融扶贫": ("扶贫小额信贷贴息", "扶贫资金互助会补助"),
    "村级集体经济": ("村级集体经济发展物业项目", "光伏发电增收项目", "标准厂房入股项目"),
    "其他": ("结对帮扶项目", "低收入农户大病保险补助"),
}
SOURCES = ("中央", "省级", "市级", "县级", "社会帮扶", "结对帮扶", "其他")
SOURCE_SHARES = (0.12, 0.40, 0.10, 0.28, 0.04, 0.05, 0.01)
FISCAL_WORDS = {"中央": "中央财政", "省级": "省级财政", "市级": "市级财政", "县级": "县级财政"}


def sends(template_name: str, year: int) -> bool:
    """Whether a county sends ``template_name`` for ``year``: project_funds from :data:`FIRST_YEAR` on."""
    return template_name != TEMPLATE or year >= FIRST_YEAR


def county_habits(county: County, seed: int, style: SubmissionStyle) -> tuple[SubmissionStyle, bool]:
    """The county's style for this file (amounts in 万元 for about half the counties whose headers can
    say so) and whether it writes fiscal sources as ``省级财政``; the same every year."""
    rng = rng_for(seed, county.code, BASE_YEAR, Stream.PROJECTS)
    wan, fiscal = rng.random(2).tolist()
    if style.headers != "en" and wan < 0.5:
        style = style.with_changes(wan_yuan=style.wan_yuan | frozenset(AMOUNT_COLUMNS))
    return style, fiscal < 0.3


def _projects_count(county: County, roster: VillageRoster, rng: np.random.Generator) -> int:
    """About one project for every three villages in the 29 counties, one for seven elsewhere; at least
    :data:`MIN_PROJECTS` (a county's list is never as short as a small sample's village roster), so that
    the few bad rows of ``--messy`` stay under the share of bad rows that rejects a whole file."""
    rate = 0.35 if county.is_29 else 0.15
    return max(MIN_PROJECTS, int(rng.poisson(len(roster) * rate)))


def project_funds_table(county: County, roster: VillageRoster, year: int, seed: int,
                        fiscal_words: bool = False) -> Table:
    rng = rng_for(seed, county.code, year, Stream.PROJECTS)
    n = _projects_count(county, roster, rng)
    names = list(TYPES)
    shares = np.array([TYPES[t][0 if county.is_29 else 1] for t in names])
    kinds = rng.choice(len(names), size=n, p=shares / shares.sum())
    listed = np.flatnonzero(roster.is_key | roster.is_weak)
    in_ledger = rng.random(n) < 0.8
    village_draw = rng.random(n)
    source_idx = rng.choice(len(SOURCES), size=n, p=np.array(SOURCE_SHARES) / sum(SOURCE_SHARES))
    size_draw = rng.lognormal(0.0, 0.5, size=n)
    paid_draw, paid_share = rng.random(n), rng.random(n)
    announce_draw, day_draw, period_draw = rng.random(n), rng.random(n), rng.random(n)
    households_draw = rng.random(n)
    wide_draw = rng.random(n)
    work_draw = rng.integers(0, 6, size=n)
    growth = 1.08 ** (year - BASE_YEAR)
    prefix = county.code[-4:]
    rows: dict[str, list] = {name: [] for name in (
        "county_code", "year", "project_id", "project_name", "project_type", "village_code", "fund_source",
        "amount_allocated", "amount_disbursed", "beneficiary_households", "announced_on", "announcement_ends_on")}
    for i in range(n):
        kind = names[int(kinds[i])]
        _, _, typical, wide_share = TYPES[kind]
        works = WORKS[kind]
        work = works[int(work_draw[i]) % len(works)]
        county_wide = bool(wide_draw[i] < wide_share)
        if county_wide:
            village, place = None, county.short_name
        else:
            pool = listed if (in_ledger[i] and len(listed)) else np.arange(len(roster))
            v = int(pool[int(village_draw[i] * len(pool))])
            village, place = roster.codes[v], roster.names[v]
        allocated = float(max(10_000, round(typical * growth * float(size_draw[i]), -2)))
        if paid_draw[i] < 0.65:
            disbursed = allocated
        elif paid_draw[i] < 0.95:
            disbursed = float(round(allocated * (0.3 + 0.65 * float(paid_share[i])), -2))
        else:
            disbursed = 0.0
        announced: dt.date | None
        ends: dt.date | None
        if announce_draw[i] < 0.08:                  # not announced
            announced = ends = None
        elif announce_draw[i] < 0.12:                # announced in December, period into January
            announced = dt.date(year, 12, 22) + dt.timedelta(days=int(day_draw[i] * 9))
            ends = announced + dt.timedelta(days=10)
        else:
            announced = dt.date(year, 2, 1) + dt.timedelta(days=int(day_draw[i] * 270))
            ends = None if period_draw[i] < 0.03 else announced + dt.timedelta(days=7 if period_draw[i] < 0.6 else 10)
        if county_wide:
            beneficiaries = int(100 + households_draw[i] * 1500)
        else:
            beneficiaries = int(5 + households_draw[i] * 120)
        source = SOURCES[int(source_idx[i])]
        rows["county_code"].append(county.code)
        rows["year"].append(year)
        rows["project_id"].append(f"XM{year}{prefix}-{i + 1:03d}")
        rows["project_name"].append(f"{place}{work}")
        rows["project_type"].append(kind)
        rows["village_code"].append(village)
        rows["fund_source"].append(FISCAL_WORDS.get(source, source) if fiscal_words else source)
        rows["amount_allocated"].append(allocated)
        rows["amount_disbursed"].append(disbursed)
        rows["beneficiary_households"].append(None if households_draw[i] > 0.92 else beneficiaries)
        rows["announced_on"].append(announced)
        rows["announcement_ends_on"].append(ends)
    return table_from_columns(TEMPLATE, county.code, county.name, year, rows)
