"""Disclosure control on the fixture's small cells.

2016: C (柯城区) has 3 monitored households -> its figures are suppressed (primary, obs_conf 'C'). C's
totals (衢州市, the 29, the province) are published, so C's value could be recovered from a total and
its siblings; the disclosure audit finds its bound rests on those totals and hides the published cell
with the fewest households among them, B (江山市, 6 households: secondary, obs_conf 'D'). A (7), D (8)
and E (8) stay published. Every publication's audit is recorded in ops.disclosure_audits.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixture_data import A, B, C, D, E
from marts_harness import FIRST_PUBLICATION, SECOND_PUBLICATION, load_fixture, query

from lowincome.errors import UserError
from lowincome.publish import refresh_marts
from lowincome.publish.disclosure import Level, Policy, Protection, build_audited_marts, load_policy
from lowincome.publish.marts import MARTS_SELECTOR

# every test here reads marts that dbt built for the fixture
pytestmark = pytest.mark.slow


def _cells(published, metric: str, year: int) -> dict[str, dict]:
    rows = query(published, "select * from marts.indicator_values where metric = %s and year = %s", (metric, year))
    return {r["geography_code"]: r for r in rows}


def test_fewer_than_five_households_is_suppressed_and_its_smallest_sibling_too(published):
    cells = _cells(published, "li_per_capita_net_income", 2016)
    for hidden, conf in ((C, "C"), (B, "D")):
        assert cells[hidden]["value"] is None, hidden
        assert cells[hidden]["obs_conf"] == conf
        assert cells[hidden]["households_n"] is None and cells[hidden]["units_n"] is None
    assert {code: cells[code]["value"] for code in (A, D, E)} == {
        A: Decimal("9000"), D: Decimal("10000"), E: Decimal("8000")}
    assert all(cells[code]["obs_conf"] == "F" for code in (A, D, E))
    # the totals stay published: they include C's and B's households, which cannot be told apart
    assert cells["group29"]["value"] == Decimal("8167") and cells["group29"]["households_n"] == 24
    assert cells["330800"]["obs_conf"] == "F"


def test_five_households_is_enough(published):
    cell = _cells(published, "li_share_above_8000_excl_dibao", 2017)[A]   # 5 non-低保 households
    assert cell["households_n"] == 5 and cell["value"] == Decimal("80.0") and cell["obs_conf"] == "F"
    four = _cells(published, "microcredit_on_time_interest_subsidy_share", 2017)[A]   # 4 on-time loans
    assert four["value"] is None and four["obs_conf"] == "C"


def test_no_published_total_has_exactly_one_hidden_part(published):
    """Over every figure and year: a published total never has a lone hidden county (or city)."""
    exposed = query(published, """
        with pairs as (
            select g.geography_code as member, 'county' as member_level, p.geography_level as parent_level,
                   p.geography_code as parent
            from marts.geography g
            join marts.geography p on (p.geography_level = 'city' and p.geography_code = g.city_code)
                or (p.geography_level = 'group29' and g.is_29) or (p.geography_level = 'group12' and g.is_12)
                or p.geography_level = 'province'
            where g.geography_level = 'county'
            union all
            select geography_code, 'city', 'province', '330000' from marts.geography where geography_level = 'city'
        )
        select t.metric, t.year, t.geography_code
        from marts.indicator_values t
        join pairs p on p.parent_level = t.geography_level and p.parent = t.geography_code
        join marts.indicator_values m on m.metric = t.metric and m.year = t.year
            and m.geography_level = p.member_level and m.geography_code = p.member
        -- ratios to 2012 and gaps to the province or to farmers' income are not sums of their parts
        where t.obs_conf = 'F' and t.metric not in ('li_income_ratio_to_2012', 'li_relative_gap_to_province',
                                                    'li_relative_gap_to_farmers')
        group by t.metric, t.year, t.geography_code
        having count(*) filter (where m.obs_conf <> 'F') = 1
    """)
    assert exposed == []


def test_suppressed_cells_reveal_nothing_downstream(published):
    for target in ("T1", "T2", "T3"):
        row = query(published, """select * from marts.target_attainment
            where target_id = %s and geography_code = %s and year = 2016""", (target, C))[0]
        assert row["obs_conf"] == "C"
        assert (row["value"], row["met"], row["gap_to_threshold"], row["trend"], row["households_n"]) == (
            None, None, None, None, None)
    # the ratio to 2012 of a hidden year is hidden as well, or 2016 = ratio x 2012 would give it away
    ratio = query(published, """select value, obs_conf from marts.indicator_values
        where metric = 'li_income_ratio_to_2012' and geography_code = %s and year = 2016""", (B,))[0]
    assert (ratio["value"], ratio["obs_conf"]) == (None, "D")
    # nor does the change of 2017 against a hidden 2016
    assert query(published, """select trend from marts.target_attainment
        where target_id = 'T1' and geography_code = %s and year = 2017""", (B,))[0]["trend"] is None
    income = query(published, "select * from marts.income_doubling where geography_code = %s and year = 2016", (C,))[0]
    assert (income["per_capita_net_income"], income["obs_conf"]) == (None, "C")


def test_every_published_figure_carries_its_flags(published):
    missing = query(published, """select count(*) as n from marts.indicator_values
        where vintage is null or obs_status not in ('P', 'A', 'R') or obs_conf not in ('F', 'C', 'D')""")
    assert missing[0]["n"] == 0


def test_every_publication_records_its_audit(published):
    audits = query(published, "select * from ops.disclosure_audits order by id")
    assert [a["published_at"] for a in audits] == [FIRST_PUBLICATION, SECOND_PUBLICATION]
    assert all(a["passed"] and a["hidden_primary"] > 0 and a["hidden_secondary"] > 0 for a in audits)
    assert all(a["cells_audited"] > a["hidden_primary"] + a["hidden_secondary"] for a in audits)
    # the secondary suppression int_metric_values_disclosure_controlled joined: B's income figures of 2016 among it
    secondary = query(published, """select metric from ops.disclosure_suppression
        where geography_code = %s and year = 2016""", (B,))
    assert {"li_per_capita_net_income", "monitored_households_with_income"} <= {r["metric"] for r in secondary}


def test_an_audit_that_cannot_pass_fails_the_publication_before_any_mart_changes(fresh_warehouse):
    """The audit runs before any published mart is rebuilt: a failed one publishes nothing (here: no
    publication at all yet) and is on record; the next one that passes publishes."""
    load_fixture(fresh_warehouse)
    # C must be kept within 3 + 1000%: more than the one round of suppression allowed can give
    policy = load_policy()
    strict = Policy(Protection(Level(1000, 20, 2), policy.protection.secondary), policy.metrics, max_rounds=1)
    with pytest.raises(UserError) as failed:
        build_audited_marts(fresh_warehouse, ["targets", "reporting_calendar"], MARTS_SELECTOR,
                            {"LOWINCOME_PUBLISHED_AT": FIRST_PUBLICATION.isoformat()}, FIRST_PUBLICATION,
                            policy=strict)
    assert "\n" not in str(failed.value) and str(failed.value).startswith("disclosure audit failed: ")
    assert query(fresh_warehouse, "select to_regclass('marts.indicator_values') as t")[0]["t"] is None
    last = query(fresh_warehouse, "select passed, unprotected from ops.disclosure_audits order by id desc limit 1")[0]
    assert last["passed"] is False and last["unprotected"]
    refresh_marts(fresh_warehouse, FIRST_PUBLICATION)
    assert query(fresh_warehouse, "select count(*) as n from marts.indicator_values where obs_conf = 'D'")[0]["n"] > 0
