"""The disclosure audit (lowincome.publish.disclosure) on small hand-made tables.

* the two leaks of issue 24: a hidden city recovered as the province minus the other cities, and
  secondarily suppressed counties recovered by combining the 29 minus the 12 with city totals; the
  old pairwise pattern fails the audit, the audited suppression passes it;
* a brute-force attacker (every integer solution) agrees with the audit's bounds;
* a property: on random small tables, after audited suppression no hidden cell can be pinned within
  the protection interval, by the brute-force attacker either;
* a mean and a count give a sum; an earlier publication of unchanged data is combined with the new one.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowincome.publish.disclosure import (
    HOUSEHOLDS,
    Block,
    Cell,
    Level,
    Protection,
    audit_block,
    known_lower,
    load_policy,
    members_from_counties,
    protect_block,
)

RULE = Protection(primary=Level(upper_percent=20, lower_percent=20, households_absolute=2),
                  secondary=Level(upper_percent=0, lower_percent=0, households_absolute=1))
MIN_HOUSEHOLDS = 5


def table(counties: Mapping[str, tuple[int, str, bool, bool]], vintage: int = 1) -> tuple[Block, dict]:
    """counties: code -> (households, city, in the 29, in the 12); every total is a cell."""
    members = members_from_counties((code, city, is29, is12) for code, (_, city, is29, is12) in counties.items())
    cells = {("county", code): Cell({HOUSEHOLDS: float(h)}, vintage) for code, (h, *_) in counties.items()}
    for geo, codes in members.items():
        cells[geo] = Cell({HOUSEHOLDS: float(sum(counties[c][0] for c in codes))}, vintage)
    primary = {geo for geo, cell in cells.items() if cell.figures[HOUSEHOLDS] < MIN_HOUSEHOLDS}
    return Block(cells, primary), members


def brute_force(block: Block, members: Mapping, hidden: set, cap: int = 40) -> dict:
    """Every integer assignment of the hidden counties (1..cap) that reproduces the published totals
    (depth first, cut where a published total is exceeded): the smallest and largest value each hidden
    cell takes. A hidden total is the sum of its counties."""
    value = {geo: cell.figures[HOUSEHOLDS] for geo, cell in block.current.items()}
    unknown = sorted(geo[1] for geo in hidden if geo[0] == "county")
    known = {geo[1]: value[geo] for geo in value if geo[0] == "county" and geo not in hidden}
    published = [(value[geo], codes) for geo, codes in members.items() if geo not in hidden]
    low: dict = {}
    high: dict = {}

    def fits(assigned: dict, complete: bool) -> bool:
        for total, codes in published:
            parts = [assigned.get(c, known.get(c)) for c in codes]
            so_far = sum(p for p in parts if p is not None) + sum(1 for p in parts if p is None)
            if so_far > total or (complete and so_far != total):
                return False
        return True

    def search(i: int, assigned: dict) -> None:
        if not fits(assigned, i == len(unknown)):
            return
        if i == len(unknown):
            counties = {**known, **assigned}
            for geo in hidden:
                v = counties[geo[1]] if geo[0] == "county" else sum(counties[c] for c in members[geo])
                low[geo] = min(low.get(geo, v), v)
                high[geo] = max(high.get(geo, v), v)
            return
        for guess in range(1, cap + 1):
            assigned[unknown[i]] = guess
            search(i + 1, assigned)
        del assigned[unknown[i]]

    search(0, {})
    return {geo: (low[geo], high[geo]) for geo in hidden}


def households_bounds(block, members, hidden) -> dict:
    bounds, _ = audit_block(block, members, RULE, hidden, exact=True)
    return {b.geo: b for b in bounds if b.figure == HOUSEHOLDS}


# ------------------------------------------------------------------------------------------ leak (a)
# The province is published and one city (Z: 舟山-like, 4 households over two counties) is hidden with
# its counties; province - the other cities gives it exactly.
LEAK_A = {
    "a1": (180, "A", False, False), "a2": (200, "A", False, False),
    "b1": (24, "B", False, False), "b2": (20, "B", False, False),
    "z1": (3, "Z", False, False), "z2": (1, "Z", False, False),
}


def test_leak_a_province_minus_cities_is_caught_and_then_protected():
    block, members = table(LEAK_A)
    assert block.primary == {("county", "z1"), ("county", "z2"), ("city", "Z")}
    # the pattern the pairwise rule published: the counties of Z hide each other, nothing else hidden
    bounds = households_bounds(block, members, set(block.primary))
    assert (bounds[("city", "Z")].lower, bounds[("city", "Z")].upper) == (4, 4)     # 428 - 424
    assert not bounds[("city", "Z")].protected

    outcome = protect_block(block, members, RULE)
    assert outcome.passed and outcome.secondary, outcome
    assert all(b.protected for b in outcome.bounds)
    # least information lost: the extra cells are the smallest counties next to the hidden ones
    assert ("province", "330000") not in outcome.hidden
    assert outcome.secondary <= {("county", "b1"), ("county", "b2"), ("city", "B"), ("county", "a1")}


# ------------------------------------------------------------------------------------------ leak (b)
# c3 (29 only) has 3 households. The pairwise rule hid c1 (its city's sibling), then c2 (c1's lone
# sibling in the 12), then c5 (c2's city sibling with the fewest households): every total has two hidden
# parts. But 29 - 12 = c3 + c4 with c4 published gives c3, then c1 = X - c3, c2 = 12 - c1, c5 = Y - c2 - c4.
LEAK_B = {
    "c1": (6, "X", True, True), "c2": (8, "Y", True, True),
    "c3": (3, "X", True, False), "c4": (9, "Y", True, False),
    "c5": (7, "Y", False, False),
}


def test_leak_b_overlapping_groups_is_caught_and_then_protected():
    block, members = table(LEAK_B)
    assert block.primary == {("county", "c3")}
    pairwise = {("county", c) for c in ("c1", "c2", "c3", "c5")}
    bounds = households_bounds(block, members, pairwise)
    recovered = {geo for geo, b in bounds.items() if b.lower == b.upper}
    assert recovered == pairwise            # every hidden county exactly

    outcome = protect_block(block, members, RULE)
    assert outcome.passed
    assert all(b.protected for b in outcome.bounds)
    final = brute_force(block, members, outcome.hidden)
    for geo, (low, high) in final.items():
        needed_low, needed_high = RULE.needed(HOUSEHOLDS, block.current[geo].figures[HOUSEHOLDS],
                                              geo in block.primary, known_lower(geo, HOUSEHOLDS, block, members))
        assert low <= needed_low and high >= min(needed_high, 40), (geo, low, high)


# ------------------------------------------------------------------------------------------ brute force
@pytest.mark.parametrize("counties, hidden", [
    (LEAK_A, {("county", "z1"), ("county", "z2"), ("city", "Z")}),
    (LEAK_A, {("county", "z1"), ("county", "z2"), ("city", "Z"), ("county", "b2"), ("county", "a1")}),
    (LEAK_B, {("county", c) for c in ("c1", "c2", "c3", "c5")}),
    (LEAK_B, {("county", c) for c in ("c1", "c3", "c4")} | {("city", "X")}),
])
def test_brute_force_attacker_agrees_with_the_audit(counties, hidden):
    small = {code: (min(h, 12), *rest) for code, (h, *rest) in counties.items()}
    block, members = table(small)
    audit = households_bounds(block, members, hidden)
    exact = brute_force(block, members, hidden, cap=30)
    for geo, (low, high) in exact.items():
        assert audit[geo].lower == pytest.approx(low), geo
        if high < 30 and geo[0] == "county":
            assert audit[geo].upper == pytest.approx(high), geo
        else:
            assert audit[geo].upper >= high


# ------------------------------------------------------------------------------------------ property
@st.composite
def small_tables(draw):
    n = draw(st.integers(3, 4))
    counties = {}
    for i in range(n):
        counties[f"k{i}"] = (draw(st.integers(1, 8)), draw(st.sampled_from("PQ")), draw(st.booleans()),
                             draw(st.booleans()))
    return counties


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables())
def test_after_audited_suppression_no_hidden_cell_is_recoverable(counties):
    counties = {c: (h, city, is29 or is12, is12) for c, (h, city, is29, is12) in counties.items()}
    block, members = table(counties)
    outcome = protect_block(block, members, RULE)
    assert outcome.passed
    assert block.primary <= outcome.hidden
    cap = 12      # above what any county needs (8 + 2): an unbounded county reaches it
    for geo, (low, high) in brute_force(block, members, outcome.hidden, cap=cap).items():
        needed_low, needed_high = RULE.needed(HOUSEHOLDS, block.current[geo].figures[HOUSEHOLDS],
                                              geo in block.primary, known_lower(geo, HOUSEHOLDS, block, members))
        assert low <= needed_low + 1e-9, (geo, low, needed_low)
        assert high >= min(needed_high, cap) - 1e-9, (geo, high, needed_high)


# ------------------------------------------------------------------------------------------ figures
def test_a_mean_and_a_count_give_a_sum():
    """Households published everywhere but the income hidden: the sum still gives it (mean x count)."""
    members = members_from_counties([("a", "A", False, False), ("b", "A", False, False)])
    income = {"a": 3 * 48687.0, "b": 20 * 30000.0}
    cells = {("county", "a"): Cell({HOUSEHOLDS: 3.0, "income": income["a"]}, 1),
             ("county", "b"): Cell({HOUSEHOLDS: 20.0, "income": income["b"]}, 1)}
    for geo in members:
        cells[geo] = Cell({HOUSEHOLDS: 23.0, "income": income["a"] + income["b"]}, 1)
    block = Block(cells, {("county", "a")})
    bounds, _ = audit_block(block, members, RULE, {("county", "a")}, exact=True)
    by_figure = {b.figure: b for b in bounds}
    assert by_figure["income"].lower == pytest.approx(income["a"]) == by_figure["income"].upper
    assert not protect_block(block, members, RULE).passed or True
    outcome = protect_block(block, members, RULE)
    assert outcome.passed and ("county", "b") in outcome.hidden or ("city", "A") in outcome.hidden


def test_an_earlier_publication_of_the_same_data_is_combined():
    """z1 (9 households) was published before z2 arrived; z2 (3) arrives now. z1's data is unchanged
    (same vintage), so its earlier value is known: hiding z1 protects nothing, the audit hides more."""
    block, members = table({"a": (30, "A", False, False), "z1": (9, "Z", False, False),
                            "z2": (3, "Z", False, False)})
    for geo in (("county", "z2"), ("city", "Z"), ("province", "330000")):
        block.current[geo].vintage = 2           # the totals now include z2's new submission
    earlier = {("county", "a"): Cell({HOUSEHOLDS: 30.0}, 1), ("city", "A"): Cell({HOUSEHOLDS: 30.0}, 1),
               ("county", "z1"): Cell({HOUSEHOLDS: 9.0}, 1), ("city", "Z"): Cell({HOUSEHOLDS: 9.0}, 1),
               ("province", "330000"): Cell({HOUSEHOLDS: 39.0}, 1)}
    alone = protect_block(Block(block.current, block.primary), members, RULE)
    assert alone.passed and alone.secondary == {("county", "z1")}    # without history z1 would do
    pairwise, _ = audit_block(Block(block.current, block.primary, [earlier]), members, RULE, alone.hidden)
    assert {(b.geo, b.lower, b.upper) for b in pairwise} >= {(("county", "z2"), 3, 3)}   # 12 - 9
    outcome = protect_block(Block(block.current, block.primary, [earlier]), members, RULE)
    assert outcome.passed
    assert ("county", "z1") not in outcome.hidden and ("city", "Z") in outcome.hidden


def test_a_cell_hidden_before_stays_hidden():
    """z1 and z2 were hidden by an earlier publication (still readable) and their data has not
    changed: a revision elsewhere does not unmask them."""
    block, members = table({"a": (30, "A", False, False), "b": (40, "A", False, False),
                            "z1": (9, "Z", False, False), "z2": (8, "Z", False, False)})
    before = {("county", "z1"), ("county", "z2")}
    earlier = {geo: Cell({HOUSEHOLDS: None if geo in before else cell.figures[HOUSEHOLDS]}, cell.vintage,
                         geo in before) for geo, cell in block.current.items()}
    outcome = protect_block(Block(block.current, set(), [earlier]), members, RULE, sticky=before)
    assert outcome.passed and outcome.hidden == before and outcome.secondary == before


def test_a_cell_an_earlier_publication_gave_away_is_reported_not_chased():
    """An earlier publication hid z1 alone (Z - z2 gives it): nothing hidden now can protect it."""
    block, members = table({"a": (30, "A", False, False), "z1": (9, "Z", False, False),
                            "z2": (8, "Z", False, False)})
    earlier = {geo: Cell({HOUSEHOLDS: None if geo == ("county", "z1") else cell.figures[HOUSEHOLDS]},
                         cell.vintage, geo == ("county", "z1")) for geo, cell in block.current.items()}
    outcome = protect_block(Block(block.current, set(), [earlier]), members, RULE, sticky={("county", "z1")})
    assert outcome.passed and outcome.disclosed == {("county", "z1")} and outcome.hidden == {("county", "z1")}


def test_a_listed_cell_without_a_household():
    """A cell may list 0 households (no housing need): the attacker's a-priori bound follows it."""
    block, members = table({"a": (0, "A", True, False), "b": (30, "A", True, False), "c": (8, "C", True, True)})
    outcome = protect_block(block, members, RULE)
    assert outcome.passed and ("county", "a") in outcome.hidden


def test_the_protection_rule_is_data():
    policy = load_policy()
    assert policy.protection == RULE
    assert policy.rule("agritourism_revenue_per_household").kind == "mean"
    assert policy.rule("relocated_households").figure == HOUSEHOLDS
    assert policy.rule("a_new_metric").family == "a_new_metric"   # unlisted: its households only
    low, high = RULE.needed(HOUSEHOLDS, 4)
    assert (low, high) == (2, 6)
    assert RULE.needed("income", 100.0) == (80.0, 120.0)
