"""A county's low-income households over the years, and the four files that describe them.

The panel starts with the 2012 register and moves one year at a time: some households are lifted out
(脱贫, and stay in the register as such), a few are removed (退出, shown once, then gone), a few lifted
households fall back (返贫: 在册 or 新增 again) and new households are identified (新增). Income follows
the household: a persistent household level times the county's growth path, so that income rows of
one household are related from year to year.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from lowincome.generator.counties import County, load_counties
from lowincome.generator.economy import BASE_YEAR, Economy, Stream, benchmark_rate, rng_for
from lowincome.generator.names import id_numbers, person_names, settlement_sites
from lowincome.generator.villages import VillageRoster
from lowincome.generator.writers import Table, table_from_columns
from lowincome.quality.policy import policy

HOUSEHOLDS_AT_FULL_SCALE = 1_000_000
RELOCATED_PERSONS_AT_FULL_SCALE = 60_000
# The 29 counties' rural residents are several times as likely to be low-income.
LOW_INCOME_WEIGHT_29 = 2.5

STATUSES = ("在册", "新增", "脱贫", "退出")
REGISTERED, NEW, LIFTED, REMOVED = range(4)
ACTIVE, OUT, GONE = 0, 1, 2  # panel states: in need, lifted out, no longer in the register

CAUSES = ("因病", "因残", "因学", "缺劳力", "缺技术", "缺资金", "因灾", "其他")
CAUSE_P = np.array([0.30, 0.15, 0.06, 0.15, 0.12, 0.10, 0.04, 0.08])
SIZE_P = np.array([0.17, 0.27, 0.22, 0.17, 0.10, 0.05, 0.015, 0.005])

PROGRAMS = ("技能培训", "来料加工", "农家乐", "家庭工业", "就业帮扶", "公益性岗位", "小额贷款")
PROGRAM_CODES = ("training", "processing", "agritourism", "household_industry", "employment",
                 "public_welfare_job", "microcredit")
PROGRAM_P = np.array([0.18, 0.12, 0.03, 0.05, 0.08, 0.04, 0.10])
MICROCREDIT = PROGRAMS.index("小额贷款")

RELOCATION_TYPES = ("地质灾害隐患", "高山远山", "水库库区", "连家渔船", "其他")
SETTLEMENT_TYPES = ("县城", "中心镇", "小城镇", "中心村")
# housing land quota per person by relocation type: the reviewed policy the validation checks
LAND_QUOTA = {kind: float(m2) for kind, m2 in policy().threshold("land_quota_m2_per_person").items()}


def initial_households(county: County, scale: float) -> int:
    counties = load_counties()

    def weight(c: County) -> float:
        return c.rural_population_10k * (LOW_INCOME_WEIGHT_29 if c.is_29 else 1.0)

    total = sum(weight(c) for c in counties)
    return max(3, round(scale * HOUSEHOLDS_AT_FULL_SCALE * weight(county) / total))


def relocated_persons(county: County, scale: float) -> float:
    counties = load_counties()
    pool = [c for c in counties if c.is_29 == county.is_29]
    share = 0.85 if county.is_29 else 0.15
    return scale * RELOCATED_PERSONS_AT_FULL_SCALE * share * county.rural_population_10k / sum(
        c.rural_population_10k for c in pool)


class HouseholdPanel:
    """Every household a county has ever registered; :meth:`advance` moves the register one year on."""

    def __init__(self, county: County, economy: Economy, roster: VillageRoster, scale: float, seed: int):
        self.county = county
        self.economy = economy
        self.roster = roster
        self.scale = scale
        self.seed = seed
        self.year = BASE_YEAR - 1
        self.n = 0
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0)
        self.village = empty_i
        self.size = empty_i
        self.labour = empty_i
        self.dibao = np.zeros(0, dtype=bool)
        self.identified = empty_i
        self.cause = empty_i
        self.level = empty_f  # persistent income level relative to the county mean
        self.shares = np.zeros((0, 4))  # persistent income composition: wage, business, property, transfer
        self.state = empty_i
        self.names: list[str] = []
        self.id_numbers: list[str] = []
        self.status = empty_i  # this year's status (-1: not in this year's register)
        self.per_capita = empty_f  # this year's per-capita net income

    # -- population -------------------------------------------------------------------------------------
    def _add(self, rng: np.random.Generator, count: int, year: int) -> np.ndarray:
        n = count
        cause = rng.choice(len(CAUSES), size=n, p=CAUSE_P)
        size = rng.choice(np.arange(1, 9), size=n, p=SIZE_P)
        labour = rng.binomial(size, 0.55)
        # the sick, the disabled and those short of labour have less of it
        weak = np.isin(cause, [0, 1, 3])
        labour = np.where(weak, rng.binomial(size, 0.3), labour)
        dibao = rng.random(n) < np.where(weak, 0.2, 0.08)
        level = np.exp(rng.normal(-0.06, 0.35, n)) * np.where(dibao, 0.78, 1.0) * np.where(weak, 0.9, 1.05)
        if year > BASE_YEAR:
            level *= 0.8  # newly identified households are the poorer ones
        if year == BASE_YEAR:
            identified = rng.choice([2008, 2009, 2010, 2011, 2012], size=n, p=[0.05, 0.05, 0.65, 0.2, 0.05])
        else:
            identified = np.full(n, year)
        raw = np.column_stack([
            rng.gamma(4.0, 1.0, n) * np.where(labour == 0, 0.15, 1.0),
            rng.gamma(2.0, 1.0, n),
            rng.gamma(0.6, 0.15, n),
            rng.gamma(1.5, 1.0, n) * np.where(dibao, 3.0, 1.0),
        ])
        shares = raw / raw.sum(axis=1, keepdims=True)
        # villages: key villages hold more households; ids follow village order in the first register
        village = rng.choice(len(self.roster), size=n, p=self.roster.household_weights)
        if year == BASE_YEAR:
            village = np.sort(village)
        female = rng.random(n) < 0.2
        birth_year = year - np.clip(rng.normal(56, 12, n), 22, 90).astype(np.int64)
        self.names += person_names(rng, n)
        self.id_numbers += id_numbers(rng, self.county.code, birth_year, female)
        start = self.n
        self.village = np.concatenate([self.village, village])
        self.size = np.concatenate([self.size, size])
        self.labour = np.concatenate([self.labour, labour])
        self.dibao = np.concatenate([self.dibao, dibao])
        self.identified = np.concatenate([self.identified, identified])
        self.cause = np.concatenate([self.cause, cause])
        self.level = np.concatenate([self.level, level])
        self.shares = np.concatenate([self.shares, shares])
        self.state = np.concatenate([self.state, np.full(n, ACTIVE)])
        self.n += n
        return np.arange(start, self.n)

    def household_ids(self, index: np.ndarray) -> list[str]:
        code = self.county.code
        return [f"{code}-{i + 1:06d}" for i in index.tolist()]

    # -- one year ---------------------------------------------------------------------------------------
    def county_mean_income(self, year: int) -> float:
        return self.economy.lowincome_income_2012 * (1 + self.economy.lowincome_growth) ** (year - BASE_YEAR)

    def advance(self) -> None:
        year = self.year + 1
        rng = rng_for(self.seed, self.county.code, year, Stream.PANEL)
        if year == BASE_YEAR:
            self._add(rng, initial_households(self.county, self.scale), year)
            status = np.where(self.identified == year, NEW, REGISTERED)
            back = np.zeros(self.n, dtype=bool)
        else:
            # last year's removals have left the register
            self.state[self.status == REMOVED] = GONE
            present = self.state != GONE
            active_before = int((self.state == ACTIVE).sum())
            u = rng.random(self.n)
            removed = present & (u < 0.01)
            back = (self.state == OUT) & ~removed & (u > 0.97)  # 返贫
            status = np.full(self.n, -1)
            status[present & (self.state == ACTIVE)] = REGISTERED
            status[present & (self.state == OUT)] = LIFTED
            status[back] = np.where(rng.random(int(back.sum())) < 0.7, REGISTERED, NEW)
            status[removed] = REMOVED
            self.state[back] = ACTIVE
            self.level[back] *= 0.75
            # births, deaths, marriages
            change = present & (rng.random(self.n) < 0.03)
            self.size[change] = np.clip(self.size[change] + rng.choice([-1, 1], int(change.sum())), 1, 8)
            self.labour = np.minimum(self.labour, self.size)
            new_count = int(rng.poisson(0.05 * active_before)) if active_before else 0
            self._add(rng, new_count, year)
            status = np.concatenate([status, np.full(new_count, NEW)])
            back = np.concatenate([back, np.zeros(new_count, dtype=bool)])
        self.year = year
        mean = self.county_mean_income(year)
        self.per_capita = np.maximum(800.0, mean * self.level * np.exp(rng.normal(0, 0.08, self.n)))
        if year > BASE_YEAR:
            # The better-off are the ones lifted out: the chance rises with income, ~6% a year on average.
            idx = np.flatnonzero((status == REGISTERED) & (self.state == ACTIVE) & ~back)
            if len(idx):
                rel = (self.per_capita[idx] / mean) ** 2
                p = np.clip(0.06 * rel / rel.mean(), 0, 0.9)
                lifted = idx[rng.random(len(idx)) < p]
                status[lifted] = LIFTED
                self.state[lifted] = OUT
                # a household lifted out rarely keeps 低保
                self.dibao[lifted] &= rng.random(len(lifted)) < 0.3
        self.status = status

    def register_index(self) -> np.ndarray:
        return np.flatnonzero(self.status >= 0)

    def income_index(self) -> np.ndarray:
        return np.flatnonzero((self.status >= 0) & (self.status != REMOVED))

    # -- files ------------------------------------------------------------------------------------------
    def households_table(self) -> Table:
        idx = self.register_index()
        roster = self.roster
        villages = self.village[idx].tolist()
        columns = {
            "county_code": [self.county.code] * len(idx),
            "year": [self.year] * len(idx),
            "township_name": [roster.townships[v] for v in villages],
            "village_code": [roster.codes[v] for v in villages],
            "village_name": [roster.names[v] for v in villages],
            "household_id": self.household_ids(idx),
            "head_name": [self.names[i] for i in idx.tolist()],
            "head_id_number": [self.id_numbers[i] for i in idx.tolist()],
            "household_size": self.size[idx].tolist(),
            "labour_count": self.labour[idx].tolist(),
            "is_dibao": self.dibao[idx].tolist(),
            "identified_year": self.identified[idx].tolist(),
            "poverty_cause": [CAUSES[c] for c in self.cause[idx].tolist()],
            "status": [STATUSES[s] for s in self.status[idx].tolist()],
        }
        return table_from_columns("households", self.county.code, self.county.name, self.year, columns)

    def income_table(self) -> Table:
        year = self.year
        rng = rng_for(self.seed, self.county.code, year, Stream.INCOME)
        idx = self.income_index()
        n = len(idx)
        size = self.size[idx]
        net = np.round(self.per_capita[idx] * size * 100).astype(np.int64)  # cents
        shares = self.shares[idx] * np.exp(rng.normal(0, 0.1, (n, 4)))
        shares /= shares.sum(axis=1, keepdims=True)
        loss = rng.random(n) < 0.02  # a bad year for the family business
        loss_share = 0.02 + 0.13 * rng.random(int(loss.sum()))
        shares[loss, 0] += shares[loss, 1] + loss_share  # wages carried the family through
        shares[loss, 1] = -loss_share
        wage = np.round(shares[:, 0] * net).astype(np.int64)
        business = np.round(shares[:, 1] * net).astype(np.int64)
        prop = np.round(shares[:, 2] * net).astype(np.int64)
        transfer = net - wage - business - prop
        # rounding can leave a cent or two below zero; the business account absorbs it last
        fix = transfer < 0
        wage[fix] += transfer[fix]
        transfer[fix] = 0
        fix = wage < 0
        business[fix] += wage[fix]
        wage[fix] = 0
        per_capita = np.round(net / size).astype(np.int64)
        consumption = np.maximum(net / 100 * (0.7 + 0.4 * rng.random(n)), 2500.0 * size)
        consumption = np.round(consumption)
        cause = self.cause[idx]
        trend = 0.97 ** max(0, year - BASE_YEAR)  # spending shares ease as aid policies take hold
        student = (cause == CAUSES.index("因学")) | ((size >= 3) & (rng.random(n) < 0.3))
        edu_share = np.where(student, 0.08 + 0.22 * rng.random(n),
                             np.where(rng.random(n) < 0.5, 0.0, 0.03 * rng.random(n))) * trend
        sick = np.isin(cause, [CAUSES.index("因病"), CAUSES.index("因残")])
        med_share = np.where(sick, 0.15 + 0.3 * rng.random(n), 0.01 + 0.09 * rng.random(n)) * trend
        education = np.round(consumption * edu_share)
        medical = np.round(consumption * med_share)
        edu_aided = (education > 0) & (rng.random(n) < 0.35)
        edu_aid = np.where(edu_aided, np.round(education * (0.2 + 0.4 * rng.random(n))), 0.0)
        med_aided = rng.random(n) < np.where(sick, 0.5, 0.15)
        med_aid = np.where(med_aided, np.round(medical * (0.2 + 0.4 * rng.random(n))), 0.0)
        labour = self.labour[idx]
        employed = rng.binomial(labour, min(0.95, 0.8 + 0.02 * (year - BASE_YEAR)))
        trained = rng.binomial(labour, 0.3)
        columns = {
            "county_code": [self.county.code] * n,
            "year": [year] * n,
            "household_id": self.household_ids(idx),
            "household_size": size.tolist(),
            "wage_income": (wage / 100).tolist(),
            "business_income": (business / 100).tolist(),
            "property_income": (prop / 100).tolist(),
            "transfer_income": (transfer / 100).tolist(),
            "net_income": (net / 100).tolist(),
            "per_capita_net_income": (per_capita / 100).tolist(),
            "consumption_expenditure": consumption.tolist(),
            "education_expenditure": education.tolist(),
            "medical_expenditure": medical.tolist(),
            "education_aid": edu_aid.tolist(),
            "medical_aid": med_aid.tolist(),
            "employed_labour": employed.tolist(),
            "trained_persons": trained.tolist(),
        }
        return table_from_columns("household_income", self.county.code, self.county.name, year, columns)

    def programs_table(self, english_codes: bool = False) -> Table:
        year = self.year
        rng = rng_for(self.seed, self.county.code, year, Stream.PROGRAMS)
        idx = self.income_index()
        n = len(idx)
        in_key_village = self.roster.is_key[self.village[idx]]
        p = np.tile(PROGRAM_P, (n, 1))
        p[in_key_village, PROGRAMS.index("农家乐")] *= 2.0
        takes = rng.random((n, len(PROGRAMS))) < p
        hh, prog = np.nonzero(takes)  # row-major: by household, then programme order
        m = len(hh)
        labour = self.labour[idx][hh]
        persons = 1 + (rng.random(m) * np.maximum(labour, 1)).astype(np.int64)
        income_by_program = {
            "来料加工": np.exp(rng.normal(8.6, 0.5, m)),
            "农家乐": np.exp(rng.normal(10.75, 0.45, m)),
            "家庭工业": 10000 + 50000 * rng.random(m),
            "就业帮扶": 15000 + 25000 * rng.random(m),
            "公益性岗位": 8000 + 12000 * rng.random(m),
        }
        bench = benchmark_rate(year)
        loan = rng.choice([10000.0, 20000.0, 30000.0, 50000.0], size=m, p=[0.3, 0.3, 0.2, 0.2])
        # most banks keep within 140% of the benchmark; a few charge more
        ratio = np.where(rng.random(m) < 0.94, 1.0 + 0.39 * rng.random(m), 1.41 + 0.3 * rng.random(m))
        rate = np.floor(bench * ratio * 100) / 100
        repaid = rng.random(m) < 0.9
        subsidy = np.where(repaid, np.round(loan * rate / 100 * (0.5 + 0.5 * rng.random(m)), 2), 0.0)
        ids = self.household_ids(idx[hh])
        names = PROGRAM_CODES if english_codes else PROGRAMS
        program, program_income, loan_amount, loan_rate, repaid_col, subsidy_col = [], [], [], [], [], []
        for j, k in enumerate(prog.tolist()):
            label = PROGRAMS[k]
            program.append(names[k])
            amounts = income_by_program.get(label)
            program_income.append(round(float(amounts[j]), -1) if amounts is not None else None)
            if k == MICROCREDIT:
                loan_amount.append(float(loan[j]))
                loan_rate.append(float(rate[j]))
                repaid_col.append(bool(repaid[j]))
                subsidy_col.append(float(subsidy[j]))
            else:
                loan_amount.append(None)
                loan_rate.append(None)
                repaid_col.append(None)
                subsidy_col.append(None)
        columns = {
            "county_code": [self.county.code] * m,
            "year": [year] * m,
            "household_id": ids,
            "program": program,
            "persons": persons.tolist(),
            "program_income": program_income,
            "loan_amount": loan_amount,
            "loan_rate_pct": loan_rate,
            "repaid_on_time": repaid_col,
            "interest_subsidy": subsidy_col,
        }
        return table_from_columns("program_participation", self.county.code, self.county.name, year, columns)

    def relocations_table(self) -> Table:
        year = self.year
        rng = rng_for(self.seed, self.county.code, year, Stream.RELOCATIONS)
        target = relocated_persons(self.county, self.scale)
        candidates = self.income_index()
        sites = settlement_sites(rng, int(min(20, max(2, target // 150 + 2))))
        # fishing-boat families (连家渔船) only on the coast
        coastal = self.economy.coastal
        type_p = np.array([0.30, 0.45, 0.08, 0.02, 0.15] if coastal else [0.31, 0.46, 0.08, 0.0, 0.15])
        rows: dict[str, list] = {name: [] for name in (
            "relocation_id", "household_id", "from_village_code", "relocation_type", "settlement_type",
            "settlement_site", "persons", "move_date", "household_subsidy", "county_infra_subsidy",
            "land_area_m2", "homestead_reclaimed")}
        moved = 0
        k = 0
        first_day = dt.date(year, 1, 1)
        days = (dt.date(year + 1, 1, 1) - first_day).days
        chosen: set[int] = set()
        while moved < target or k == 0:
            k += 1
            in_register = len(candidates) > 0 and rng.random() < 0.65
            if in_register:
                h = int(candidates[rng.integers(len(candidates))])
                if h in chosen:
                    in_register = False
                else:
                    chosen.add(h)
            if in_register:
                persons = int(self.size[h])
                household_id = self.household_ids(np.array([h]))[0]
                village = self.roster.codes[int(self.village[h])]
            else:
                persons = int(rng.choice(np.arange(1, 7), p=[0.1, 0.2, 0.3, 0.25, 0.1, 0.05]))
                household_id = None
                village = self.roster.codes[int(rng.integers(len(self.roster)))]
            kind = RELOCATION_TYPES[int(rng.choice(len(RELOCATION_TYPES), p=type_p))]
            quota = LAND_QUOTA[kind]
            over = rng.random() < 0.05
            per_person = quota * (1.0 + 0.3 * rng.random()) if over else quota * (0.6 + 0.4 * rng.random())
            full = rng.random() < 0.88
            per_subsidy = 5600.0 if full else float(round(3000 + 2500 * rng.random(), -2))
            infra = 2800.0 if rng.random() < 0.9 else float(round(1500 + 1200 * rng.random(), -2))
            rows["relocation_id"].append(f"BQ{year}{k:05d}")
            rows["household_id"].append(household_id)
            rows["from_village_code"].append(village)
            rows["relocation_type"].append(kind)
            rows["settlement_type"].append(SETTLEMENT_TYPES[int(rng.choice(4, p=[0.15, 0.3, 0.25, 0.3]))])
            rows["settlement_site"].append(sites[int(rng.integers(len(sites)))])
            rows["persons"].append(persons)
            rows["move_date"].append(first_day + dt.timedelta(days=int(rng.integers(days))))
            rows["household_subsidy"].append(per_subsidy * persons)
            rows["county_infra_subsidy"].append(infra * persons)
            rows["land_area_m2"].append(round(float(per_person * persons), 1))
            rows["homestead_reclaimed"].append(bool(rng.random() < 0.7))
            moved += persons
        n = len(rows["relocation_id"])
        columns = {"county_code": [self.county.code] * n, "year": [year] * n, **rows}
        return table_from_columns("relocations", self.county.code, self.county.name, year, columns)

