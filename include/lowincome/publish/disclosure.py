"""Audited disclosure control: no hidden figure can be recovered from what is published.

dbt computes every figure exactly and hides those from fewer than 5 households (primary suppression,
``intermediate.int_metric_values_primary_suppressed``). Before the marts are rebuilt,
:func:`audit_publication` plays the attacker: for every hidden cell it solves linear programmes (SciPy's
``linprog``, HiGHS) over everything a reader can combine, i.e.

* every geography level with its additive relations (county -> city, the 29, the 12, the province;
  city -> province follows),
* every figure of a cell together (a count and a mean give a sum: ``include/config/disclosure.yaml``),
* every earlier publication still readable through ``marts.indicator_values_as_of`` (a figure whose
  data did not change since, same vintage, is the same unknown; one that changed is another),

and bounds each of the cell's figures. Where the bounds are tighter than the protection interval (data:
``include/config/disclosure.yaml``), the published cell with the fewest households among the relations the
bound rests on (the programme's non-zero duals) is hidden too (secondary suppression) and the audit runs
again. Blocks (metric family x year) share no relation and are audited one by one. The decisions go to
``ops.disclosure_suppression``, which ``int_metric_values_disclosure_controlled`` joins (obs_conf 'D');
the outcome of every audit to ``ops.disclosure_audits``. An audit that cannot pass fails the publication in one line before any mart
is rebuilt, so the last publication stays readable.

The attacker is granted the unrounded values of what is published (stronger than any reader: the
audit errs on the safe side) and the knowledge that a listed cell has at least one household (where it
has one) and that no figure is negative. A cell hidden in a readable publication stays hidden while its
data (vintage) is unchanged: a revision never unmasks it. A hidden cell that the earlier publications
alone already pin down cannot be protected any more: it is counted (``disclosed_before``), not chased.

Only a publication through :func:`lowincome.publish.refresh_marts` is audited: a plain ``dbt build`` of
``models/marts`` applies the last audit's secondary suppression to whatever it computes.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import yaml

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.transform import run_dbt
from lowincome.transform.project import PUBLICATION_INTERMEDIATE_PATH
from lowincome.warehouse import connect

POLICY_FILE = Path(__file__).resolve().parents[2] / "config" / "disclosure.yaml"
CELLS_SELECTOR = f"path:{PUBLICATION_INTERMEDIATE_PATH}"   # the partial sums and the cells before the audit
HOUSEHOLDS = "households"
LEVEL_RANK = {"county": 0, "city": 1, "group12": 2, "group29": 3, "province": 4}
MAX_ROUNDS = 500
EPS = 1e-6

Geo = tuple[str, str]                 # (geography_level, geography_code)


# ---------------------------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class Level:
    """How far an attacker's interval must reach around a hidden figure's true value."""

    upper_percent: float
    lower_percent: float
    households_absolute: float

    def needed(self, figure: str, value: float, known_lower: float | None = None) -> tuple[float, float]:
        """(highest the attacker's lower bound may be, lowest its upper bound may be); ``known_lower``:
        what anybody knows without a figure published (a total of n listed counties has n households)."""
        absolute = self.households_absolute if figure == HOUSEHOLDS else 0.0
        up = max(self.upper_percent / 100 * abs(value), absolute)
        down = max(self.lower_percent / 100 * abs(value), absolute)
        known = a_priori_lower(figure) if known_lower is None else known_lower
        return max(known, value - down), value + up


@dataclass(frozen=True)
class Protection:
    """The protection rule: one level for cells hidden for their own sake (primary), one for the cells
    hidden to protect them (secondary: not sensitive themselves, they must only not be recoverable)."""

    primary: Level
    secondary: Level

    def needed(self, figure: str, value: float, primary: bool = True,
               known_lower: float | None = None) -> tuple[float, float]:
        return (self.primary if primary else self.secondary).needed(figure, value, known_lower)


@dataclass(frozen=True)
class MetricRule:
    family: str
    figure: str | None = None        # the figure's name in its family (None: households only)
    kind: str = "households"        # households | value | share | mean


@dataclass(frozen=True)
class Policy:
    protection: Protection
    metrics: Mapping[str, MetricRule]
    max_rounds: int = MAX_ROUNDS       # rounds of suppression a family-year may take before the audit fails

    def rule(self, metric: str) -> MetricRule:
        return self.metrics.get(metric) or MetricRule(family=metric)


def load_policy(path: Path = POLICY_FILE) -> Policy:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        levels = [data["protection"][name] for name in ("primary", "secondary")]
        protection = Protection(*(Level(float(p["upper_percent"]), float(p["lower_percent"]),
                                        float(p["households_absolute"])) for p in levels))
        metrics = {}
        for metric, spec in (data.get("metrics") or {}).items():
            kind = spec.get("figure")
            if kind not in (None, "households", "value", "share", "mean"):
                raise ValueError(f"metric {metric}: figure must be households, value, share or mean")
            name = HOUSEHOLDS if kind == "households" else spec.get("name", metric) if kind else None
            metrics[metric] = MetricRule(spec["family"], name, kind or "households")
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as err:
        raise UserError(f"disclosure policy {path}: {err}") from None
    if min(min(vars(level).values()) for level in (protection.primary, protection.secondary)) < 0:
        raise UserError(f"disclosure policy {path}: protection levels must not be negative")
    return Policy(protection, metrics, int(data.get("max_rounds", MAX_ROUNDS)))


def known_lower(geo: Geo, figure: str, block: Block, members: Mapping[Geo, frozenset[str]]) -> float:
    """What anybody knows of a figure with nothing published: a household in every listed county (that
    has one: a cell may list none, e.g. no housing need)."""
    if figure != HOUSEHOLDS:
        return a_priori_lower(figure)
    counties = [geo[1]] if geo[0] == "county" else members.get(geo, ())
    return float(sum(1 for c in counties if block.current.get(("county", c), Cell({})).figures.get(HOUSEHOLDS, 0) >= 1))


def a_priori_lower(figure: str) -> float:
    """What anybody knows: a listed cell has a household; no figure is negative."""
    return 1.0 if figure == HOUSEHOLDS else 0.0


# ---------------------------------------------------------------------------------------------- tables
@dataclass
class Cell:
    """A family's figures in one geography (and year): exact values, or rounded ones with a tolerance."""

    figures: dict[str, float]
    vintage: object = None
    hidden: bool = False
    tolerance: dict[str, float] = field(default_factory=dict)
    shares: tuple[str, ...] = ()     # figures that are a part of the households (<= households)


@dataclass
class Block:
    """One family and year: the cells to publish now and the same cells in earlier publications."""

    current: dict[Geo, Cell]
    primary: set[Geo]
    earlier: list[dict[Geo, Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class Bound:
    geo: Geo
    figure: str
    value: float
    lower: float
    upper: float
    needed_lower: float
    needed_upper: float
    resting_on: frozenset[int] = frozenset()    # the relations an unprotected bound rests on

    @property
    def protected(self) -> bool:
        return self.upper >= self.needed_upper - EPS and self.lower <= self.needed_lower + EPS


def members_from_counties(counties: Iterable[tuple[str, str, bool, bool]]) -> dict[Geo, frozenset[str]]:
    """The counties each geography adds up (as the dbt model int_counties_fanned_out_to_geographies):
    (county, city, 29, 12)."""
    members: dict[Geo, set[str]] = defaultdict(set)
    for county, city, is_29, is_12 in counties:
        members[("city", city)].add(county)
        members[("province", "330000")].add(county)
        if is_29:
            members[("group29", "group29")].add(county)
        if is_12:
            members[("group12", "group12")].add(county)
    return {geo: frozenset(codes) for geo, codes in members.items()}


# ---------------------------------------------------------------------------------------------- the LP
class _Programme:
    """The attacker's linear programme for one block under a suppression pattern."""

    def __init__(self, block: Block, hidden: set[Geo], members: Mapping[Geo, frozenset[str]]):
        self.var: dict[tuple, int] = {}
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.cell_of_var: list[Geo | None] = []
        self.disclosed: set[Geo] = set()     # hidden now, but an earlier publication showed the same data
        rows: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
        shares: set[tuple[int, int]] = set()

        states: list[tuple[dict[Geo, Cell], bool]] = [(block.current, True)]
        for state in block.earlier:
            if self._same_definition(block.current, state):
                states.append((state, False))
        for state, is_current in states:
            ids = {}
            for geo, cell in state.items():
                is_hidden = geo in hidden if is_current else cell.hidden
                for figure, value in cell.figures.items():
                    index = self._variable(geo, cell.vintage, figure, block.current)
                    if is_current and value is not None and value < self.lower[index]:
                        self.lower[index] = value      # a listed cell without a household
                    ids[geo, figure] = index
                    if not is_hidden and value is not None:
                        tol = 0.0 if is_current else cell.tolerance.get(figure, 0.0)
                        self._observe(index, value - tol, value + tol)
                        if not is_current and geo in hidden and geo in block.current \
                                and block.current[geo].vintage == cell.vintage:
                            self.disclosed.add(geo)
                for figure in cell.shares:
                    if (geo, figure) in ids and (geo, HOUSEHOLDS) in ids:
                        shares.add((ids[geo, figure], ids[geo, HOUSEHOLDS]))
            for parent, counties in members.items():
                if parent not in state:
                    continue
                for figure in state[parent].figures:
                    parts = tuple(sorted(ids[("county", c), figure] for c in counties if (("county", c), figure) in ids))
                    rows.add(((ids[parent, figure],), parts))
        self.rows = sorted(rows)
        self.shares = sorted(shares)
        self.n = len(self.lower)
        self._matrices()

    @staticmethod
    def _same_definition(current: dict[Geo, Cell], state: dict[Geo, Cell]) -> bool:
        """An earlier publication computed as now: its published figures of unchanged data agree."""
        for geo, cell in state.items():
            now = current.get(geo)
            if cell.hidden or now is None or now.vintage != cell.vintage:
                continue
            for figure, value in cell.figures.items():
                exact = now.figures.get(figure)
                if value is not None and exact is not None and abs(exact - value) > cell.tolerance.get(figure, 0.0) + EPS:
                    return False
        return True

    def _variable(self, geo: Geo, vintage, figure: str, current: dict[Geo, Cell]) -> int:
        key = (geo, vintage, figure)
        if key not in self.var:
            self.var[key] = len(self.lower)
            self.lower.append(a_priori_lower(figure))
            self.upper.append(math.inf)
            now = current.get(geo)
            self.cell_of_var.append(geo if now is not None and now.vintage == vintage else None)
        return self.var[key]

    def _observe(self, index: int, low: float, high: float) -> None:
        self.lower[index] = max(self.lower[index], low)
        self.upper[index] = min(self.upper[index], high)
        if self.lower[index] > self.upper[index] + EPS:
            raise UserError("disclosure audit: the published figures contradict each other "
                            f"(a figure of {self.cell_of_var[index]}); nothing was published")
        self.upper[index] = max(self.upper[index], self.lower[index])

    def _matrices(self) -> None:
        # SciPy here, not at import: it would cost every `lowincome` command half a second
        from scipy.sparse import coo_matrix

        lo, hi = np.array(self.lower), np.array(self.upper)
        self.free = np.flatnonzero(hi - lo > EPS)
        column = {int(v): j for j, v in enumerate(self.free)}
        fixed = (hi + lo) / 2
        data, r_idx, c_idx, rhs = [], [], [], []
        kept_rows = []
        for parent, parts in self.rows:
            terms = [(parent[0], 1.0)] + [(p, -1.0) for p in parts]
            if not any(v in column for v, _ in terms):
                continue
            _add_row(terms, column, fixed, data, r_idx, c_idx, rhs)
            kept_rows.append((parent, parts))
        self.kept_rows = kept_rows
        m = len(self.free)
        self.a_eq = coo_matrix((data, (r_idx, c_idx)), shape=(len(rhs), m)).toarray() if rhs else None
        self.b_eq = np.array(rhs) if rhs else None
        u_data, u_r, u_c, u_rhs = [], [], [], []
        for part, whole in self.shares:
            if part not in column and whole not in column:
                continue
            _add_row(((part, 1.0), (whole, -1.0)), column, fixed, u_data, u_r, u_c, u_rhs)
        self.a_ub = coo_matrix((u_data, (u_r, u_c)), shape=(len(u_rhs), m)).toarray() if u_rhs else None
        self.b_ub = np.array(u_rhs) if u_rhs else None
        self.bounds = [(lo[v], None if math.isinf(hi[v]) else hi[v]) for v in self.free]
        self.column = column
        # variables in some relation: others keep their a-priori bounds
        self.related = {v for parent, parts in kept_rows for v in (*parent, *parts)} | \
            {v for pair in self.shares for v in pair}

    def solve(self, weights: Mapping[int, float], caps: Mapping[int, float] | None = None,
              ) -> tuple[float, np.ndarray | None, frozenset[int]]:
        """Minimise sum(weight x variable): the optimum (-inf: unbounded), a solution (a point every
        relation holds at, as columns of ``free``) and the relations the optimum rests on (non-zero duals,
        indices into ``kept_rows``). ``caps``: upper bounds added to some variables."""
        bounds = self.bounds
        if caps:
            bounds = list(bounds)
            for index, cap in caps.items():
                low, high = bounds[self.column[index]]
                bounds[self.column[index]] = (low, cap if high is None else min(high, cap))
        from scipy.optimize import linprog

        c = np.zeros(len(self.free))
        for index, weight in weights.items():
            c[self.column[index]] = weight
        result = linprog(c, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq, b_eq=self.b_eq,
                         bounds=bounds, method="highs")
        if result.status == 3:
            return -math.inf, None, frozenset()
        if result.status != 0:
            raise UserError(f"disclosure audit: the attacker's programme could not be solved ({result.message})")
        duals = result.eqlin.marginals if self.a_eq is not None else ()
        return result.fun, result.x, frozenset(int(i) for i in np.flatnonzero(np.abs(duals) > EPS))

    def bounds_of(self, index: int) -> tuple[float, float, tuple[frozenset[int], frozenset[int]]]:
        """The attacker's lowest and highest value of a variable, and the relations each rests on."""
        if index not in self.column or index not in self.related:
            return self.lower[index], self.upper[index], (frozenset(), frozenset())
        low, _, at_low = self.solve({index: 1.0})
        high, _, at_high = self.solve({index: -1.0})
        return low, -high, (at_low, at_high)


# ---------------------------------------------------------------------------------------------- audit
@dataclass
class BlockOutcome:
    hidden: set[Geo]
    secondary: set[Geo]
    rounds: int
    bounds: list[Bound]
    disclosed: set[Geo]
    passed: bool


def audit_block(block: Block, members: Mapping[Geo, frozenset[str]], protection: Protection,
                hidden: set[Geo], only: set[Geo] | None = None, exact: bool = False) -> tuple[list[Bound], _Programme]:
    """Bound every figure of every hidden cell (``only`` some) that no earlier publication showed.

    ``exact``: the attacker's exact bounds. Otherwise a bound is solved for only where no point the
    programmes found so far already shows the figure may lie beyond the protection interval (the
    attacker's interval then reaches at least that far: ``lower``/``upper`` say how far it was seen to);
    the programmes that maximise and minimise all hidden figures at once find most such points.
    """
    programme = _Programme(block, hidden, members)
    targets = []
    for geo in sorted(hidden if only is None else hidden & only):
        if geo in programme.disclosed or geo not in block.current:
            continue
        cell = block.current[geo]
        for figure, value in sorted(cell.figures.items()):
            index = programme.var[(geo, cell.vintage, figure)]
            needed = protection.needed(figure, value, geo in block.primary, known_lower(geo, figure, block, members))
            targets.append((geo, figure, value, index, *needed))
    seen_low: dict[int, float] = {}
    seen_high: dict[int, float] = {}
    solvable = [t[3] for t in targets if t[3] in programme.column and t[3] in programme.related]

    def witness(x: np.ndarray | None) -> None:
        if x is not None:
            for index in solvable:
                value = float(x[programme.column[index]])
                seen_low[index] = min(seen_low.get(index, math.inf), value)
                seen_high[index] = max(seen_high.get(index, -math.inf), value)

    if not exact and len(solvable) > 1:
        # all as low as they may go together, then all as high as needed (capped: no figure unbounded)
        # (only a short cut: a programme that fails here is solved figure by figure below)
        caps = {t[3]: t[5] + 1.0 for t in targets if t[3] in programme.column}
        for weights, capped in (({index: 1.0 for index in solvable}, None),
                                ({index: -1.0 for index in solvable}, caps)):
            with contextlib.suppress(UserError):
                witness(programme.solve(weights, capped)[1])
    bounds = []
    for geo, figure, value, index, needed_lower, needed_upper in targets:
        if index not in programme.column or index not in programme.related:
            lower, upper, at_lower, at_upper = programme.lower[index], programme.upper[index], frozenset(), frozenset()
        else:
            lower, upper, at_lower, at_upper = seen_low.get(index, value), seen_high.get(index, value), None, None
            if exact or lower > needed_lower + EPS:
                lower, x, at_lower = programme.solve({index: 1.0})
                witness(x)
            if exact or upper < needed_upper - EPS:
                high, x, at_upper = programme.solve({index: -1.0})
                upper = -high
                witness(x)
        resting_on = (at_lower if lower > needed_lower + EPS else frozenset()) | (
            at_upper if upper < needed_upper - EPS else frozenset())
        bounds.append(Bound(geo, figure, value, lower, upper, needed_lower, needed_upper, resting_on))
    return bounds, programme


def _candidates(bound: Bound, programme: _Programme, hidden: set[Geo], block: Block, shown: set[Geo]) -> list[Geo]:
    """Published cells in the relations an unprotected bound rests on, fewest households first; else the
    published cells nearest to it through relations and hidden cells."""
    def rank(geo: Geo):
        return block.current[geo].figures[HOUSEHOLDS], LEVEL_RANK.get(geo[0], 9), geo[1]

    def publishable(v: int) -> Geo | None:
        geo = programme.cell_of_var[v]
        return geo if geo is not None and geo not in hidden and geo not in shown else None

    resting = {publishable(v) for r in bound.resting_on for v in (*programme.kept_rows[r][0], *programme.kept_rows[r][1])}
    resting.discard(None)
    if resting:
        return sorted(resting, key=rank)
    by_var: dict[int, list[tuple]] = defaultdict(list)
    for parent, parts in programme.rows:
        for v in (*parent, *parts):
            by_var[v].append((parent, parts))
    vars_of: dict[Geo, list[int]] = defaultdict(list)
    for (geo, _vintage, _figure), v in programme.var.items():
        vars_of[geo].append(v)
    seen, frontier = {bound.geo}, [bound.geo]
    while frontier:
        found: set[Geo] = set()
        nxt: list[Geo] = []
        for cell_geo in frontier:
            for v in vars_of[cell_geo]:
                for parent, parts in by_var[v]:
                    for w in (*parent, *parts):
                        other = programme.cell_of_var[w]
                        if other is None or other in seen:
                            continue
                        seen.add(other)
                        if other in hidden:
                            nxt.append(other)
                        elif other not in shown:
                            found.add(other)
        if found:
            return sorted(found, key=rank)
        frontier = nxt
    return []


def protect_block(block: Block, members: Mapping[Geo, frozenset[str]], protection: Protection,
                  sticky: set[Geo] = frozenset(), max_rounds: int = MAX_ROUNDS) -> BlockOutcome:
    """Hide more cells, fewest households first, until every hidden cell of the block is protected.

    A hidden cell that the earlier publications alone pin down (recoverable even were every cell of
    this publication hidden) cannot be protected any more: it is reported in ``disclosed`` and not
    audited, rather than failing every publication from then on.
    """
    hidden = set(block.primary) | {g for g in sticky if g in block.current}
    already = set()
    rounds = 0
    while True:
        rounds += 1
        bounds, programme = audit_block(block, members, protection, hidden, only=hidden - already)
        failing = [b for b in bounds if not b.protected]
        if failing and block.earlier:
            everything, _ = audit_block(block, members, protection, set(block.current),
                                        only={b.geo for b in failing})
            lost = {b.geo for b in everything if not b.protected}
            if lost:
                already |= lost
                continue
        disclosed = programme.disclosed | already
        if not failing:
            return BlockOutcome(hidden, hidden - block.primary, rounds, bounds, disclosed, True)
        shown = _published_earlier(block)
        added = set()
        for bound in failing:
            if added & _related_cells(bound, programme):
                continue      # this round already opens one of the relations it rests on
            options = _candidates(bound, programme, hidden | added, block, shown)
            if options:
                added.add(options[0])
        if not added or rounds >= max_rounds:
            return BlockOutcome(hidden, hidden - block.primary, rounds, bounds, disclosed, False)
        hidden |= added


def _related_cells(bound: Bound, programme: _Programme) -> set[Geo]:
    rows = (programme.kept_rows[r] for r in bound.resting_on)
    return {programme.cell_of_var[v] for parent, parts in rows for v in (*parent, *parts)} - {None}


def _published_earlier(block: Block) -> set[Geo]:
    """Cells whose present data an earlier publication showed: hiding them now would protect nothing."""
    shown = set()
    for state in block.earlier:
        for geo, cell in state.items():
            now = block.current.get(geo)
            if not cell.hidden and now is not None and now.vintage == cell.vintage:
                shown.add(geo)
    return shown


# ---------------------------------------------------------------------------------------------- warehouse
@dataclass
class AuditOutcome:
    cells_audited: int
    hidden_primary: int
    hidden_secondary: int
    disclosed_before: int
    rounds: int
    passed: bool
    seconds: float
    unprotected: list[tuple[str, int, Bound]]
    secondary: list[tuple[str, str, str, int]]        # (metric, level, code, year)

    def summary(self) -> str:
        return (f"{self.cells_audited} cells audited, {self.hidden_primary} hidden (primary), "
                f"{self.hidden_secondary} hidden (secondary), {self.rounds} rounds, {self.seconds:.2f} s")


CANDIDATES_SQL = """
    select metric, unit, geography_level, geography_code, year, value, households_n, vintage, primary_suppressed
    from intermediate.int_metric_values_primary_suppressed where households_n is not null
"""
HISTORY_SQL = """
    select metric, unit, geography_level, geography_code, year, value, households_n, vintage, obs_conf,
           valid_from, valid_to
    from marts.indicator_history where households_n is not null or obs_conf <> 'F'
"""
DECIMALS = {"yuan": 0, "count": 0, "persons": 0, "ratio": 3}


def _figure(rule: MetricRule, value: float | None, households: float | None) -> float | None:
    if value is None:
        return None
    if rule.kind == "share":
        return None if households is None else value * households / 100
    if rule.kind == "mean":
        return None if households is None else value * households
    return value


def _tolerance(rule: MetricRule, unit: str, households: float | None) -> float:
    """How far a rounded published figure may be from its exact value."""
    half = 0.0 if unit in ("count", "persons") else 0.5 * 10 ** -DECIMALS.get(unit, 1)
    if rule.kind == "share":
        return half * (households or 0) / 100
    if rule.kind == "mean":
        return half * (households or 0)
    return half


def _add(cells: dict, key: tuple, geo: Geo, rule: MetricRule, unit: str, value, households, vintage,
         hidden: bool, rounded: bool) -> None:
    cell = cells.setdefault(key, {}).setdefault(geo, Cell({}, vintage, hidden))
    cell.hidden = cell.hidden or hidden
    if cell.vintage is None or (vintage is not None and vintage > cell.vintage):
        cell.vintage = vintage
    h = None if households is None else float(households)
    cell.figures.setdefault(HOUSEHOLDS, h)
    if rule.figure and rule.figure != HOUSEHOLDS:
        cell.figures[rule.figure] = _figure(rule, None if value is None else float(value), h)
        if rounded:
            cell.tolerance[rule.figure] = _tolerance(rule, unit, h)
        if rule.kind == "share" and rule.figure not in cell.shares:
            cell.shares += (rule.figure,)


def read_blocks(conn, policy: Policy) -> tuple[dict[tuple[str, int], Block], dict[tuple[str, int], set[Geo]],
                                               dict[str, list[str]]]:
    """The cells to publish (exact, with primary suppression) and every readable earlier publication,
    by family and year; the cells hidden in a readable publication (sticky); each family's metrics."""
    current: dict[tuple[str, int], dict[Geo, Cell]] = {}
    primary: dict[tuple[str, int], set[Geo]] = defaultdict(set)
    family_metrics: dict[str, set[str]] = defaultdict(set)
    for metric, unit, level, code, year, value, households, vintage, is_primary in conn.execute(CANDIDATES_SQL):
        rule = policy.rule(metric)
        family_metrics[rule.family].add(metric)
        key, geo = (rule.family, year), (level, code)
        _add(current, key, geo, rule, unit, value, households, vintage, False, False)
        if is_primary:
            primary[key].add(geo)
    published_before = conn.execute("select to_regclass('marts.indicator_history')").fetchone()[0] is not None
    audited_metrics = set().union(*family_metrics.values())
    by_key: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    sticky: dict[tuple[str, int], set[Geo]] = defaultdict(set)
    for row in conn.execute(HISTORY_SQL).fetchall() if published_before else []:
        metric, unit, level, code, year, value, households, vintage, obs_conf, valid_from, valid_to = row
        if metric not in audited_metrics:
            continue
        rule = policy.rule(metric)
        key, geo = (rule.family, year), (level, code)
        if key not in current:
            continue
        by_key[key].append(row)
        now = current[key].get(geo)
        if obs_conf != "F" and now is not None and now.vintage == vintage:
            sticky[key].add(geo)
    blocks = {}
    for key, cells in current.items():
        for cell in cells.values():      # the family's households, where only a share figure said it
            cell.figures = {f: v for f, v in cell.figures.items() if v is not None}
        # the block as each earlier publication showed it: it changes only when one of its versions
        # begins or ends, so those times are the publications to read it at
        versions = by_key.get(key, [])
        times = sorted({v[9] for v in versions} | {v[10] for v in versions if v[10] is not None})
        olds = []
        for when in times:
            old: dict[tuple, dict[Geo, Cell]] = {}
            for metric, unit, level, code, _year, value, households, vintage, obs_conf, valid_from, valid_to \
                    in versions:
                if valid_from <= when and (valid_to is None or valid_to > when):
                    _add(old, key, (level, code), policy.rule(metric), unit, value, households, vintage,
                         obs_conf != "F", True)
            if old:
                for cell in old[key].values():
                    cell.figures = {f: (None if cell.hidden else v) for f, v in cell.figures.items()}
                olds.append(old[key])
        blocks[key] = Block(cells, primary[key], olds)
    return blocks, sticky, {family: sorted(metrics) for family, metrics in family_metrics.items()}


def read_members(conn) -> dict[Geo, frozenset[str]]:
    return members_from_counties(conn.execute(
        "select county_code, city_code, coalesce(is_29, false), coalesce(is_12, false) from warehouse.dim_county"))


def audit_publication(conn, published_at: datetime | None, policy: Policy | None = None) -> AuditOutcome:
    """Audit what dbt is about to publish; write the secondary suppression and the audit's outcome.

    Raises UserError (one line) when some hidden cell cannot be protected; the outcome is recorded
    either way (the caller commits it before raising on).
    """
    policy = policy or load_policy()
    started = time.perf_counter()
    blocks, sticky, family_metrics = read_blocks(conn, policy)
    members = read_members(conn)
    audited = primary_n = secondary_n = disclosed_n = rounds = 0
    unprotected: list[tuple[str, int, Bound]] = []
    secondary: list[tuple[str, str, str, int]] = []
    for (family, year), block in sorted(blocks.items()):
        outcome = protect_block(block, members, policy.protection, sticky.get((family, year), set()),
                                policy.max_rounds)
        audited += len(block.current)
        primary_n += len(block.primary)
        secondary_n += len(outcome.secondary)
        disclosed_n += len(outcome.disclosed)
        rounds = max(rounds, outcome.rounds)
        if not outcome.passed:
            unprotected += [(family, year, b) for b in outcome.bounds if not b.protected]
        for level, code in sorted(outcome.secondary):
            secondary += [(metric, level, code, year) for metric in family_metrics[family]]
    result = AuditOutcome(audited, primary_n, secondary_n, disclosed_n, rounds, not unprotected,
                          time.perf_counter() - started, unprotected, secondary)
    _record(conn, published_at, result)
    return result


def _record(conn, published_at: datetime | None, outcome: AuditOutcome) -> None:
    first = outcome.unprotected[0] if outcome.unprotected else None
    detail = None if first is None else (
        f"{first[0]} {first[1]} {first[2].geo[0]} {first[2].geo[1]} {first[2].figure}: "
        f"attacker's interval [{first[2].lower:g}, {first[2].upper:g}] within "
        f"[{first[2].needed_lower:g}, {first[2].needed_upper:g}]")
    conn.execute(
        "insert into ops.disclosure_audits (published_at, cells_audited, hidden_primary, hidden_secondary, "
        "disclosed_before, rounds, passed, seconds, unprotected) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (published_at, outcome.cells_audited, outcome.hidden_primary, outcome.hidden_secondary,
         outcome.disclosed_before, outcome.rounds, outcome.passed, round(outcome.seconds, 3), detail))
    if outcome.passed:
        conn.execute("delete from ops.disclosure_suppression")
        with conn.cursor().copy("copy ops.disclosure_suppression (metric, geography_level, geography_code, year) "
                                "from stdin") as copy:
            for row in outcome.secondary:
                copy.write_row(row)


def build_audited_marts(cfg: Settings, seeds: list[str], marts_selector: str, env: dict[str, str],
                        published_at: datetime | None = None, *, in_process: bool = False,
                        policy: Policy | None = None) -> AuditOutcome:
    """A publication in three steps: dbt builds the partial sums and ``int_metric_values_primary_suppressed``
    (with their tests), the audit decides the secondary suppression, dbt builds the rest of the marts.

    An audit that cannot pass is recorded in ``ops.disclosure_audits`` and raises UserError (one line)
    before any published mart is rebuilt: the last publication stays readable.
    """
    run_dbt(cfg, ["build", "--select", *seeds, CELLS_SELECTOR], env=env, in_process=in_process)
    with connect(cfg.warehouse_url()) as conn:
        outcome = audit_publication(conn, published_at, policy)
    if not outcome.passed:
        family, year, bound = outcome.unprotected[0]
        raise UserError(
            f"disclosure audit failed: {family} {year} {bound.geo[0]} {bound.geo[1]} ({bound.figure}) can be "
            f"narrowed to [{bound.lower:g}, {bound.upper:g}] from what is readable and suppression did not "
            f"protect it within {(policy or load_policy()).max_rounds} rounds; nothing was published "
            f"(ops.disclosure_audits)")
    run_dbt(cfg, ["build", "--select", marts_selector, "--exclude", CELLS_SELECTOR], env=env, in_process=in_process)
    return outcome


def _add_row(terms, column: dict, fixed, data: list, r_idx: list, c_idx: list, rhs: list) -> None:
    """One linear row in coordinate form: the free variables' coefficients, the fixed ones moved to the rhs."""
    r = len(rhs)
    constant = 0.0
    for v, coef in terms:
        if v in column:
            data.append(coef)
            r_idx.append(r)
            c_idx.append(column[v])
        else:
            constant -= coef * fixed[v]
    rhs.append(constant)
