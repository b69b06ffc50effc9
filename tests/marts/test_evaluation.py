"""Classified evaluation (marts.county_evaluation) on the hand-made fixture (fixture_data.py): classes,
statuses, distances to the threshold, composite scores and ranks worked out by hand.

Counties: A 330803 and E 331127 are of the 12 (class group12), B 330881 and C 330802 the other counties of
the 29 (group29_other), D 330522 a developed-area county (developed); the other counties of the seed sent
nothing. The scores are checked under weights set here (the seed `evaluation_weights` replaced in a copy
of the published warehouse), so that a target added to the plan later does not change the arithmetic;
the default seed is checked for equal weights.
"""

from __future__ import annotations

import dataclasses
import uuid
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from fixture_data import A, B, C, D, E
from marts_harness import query
from psycopg import sql

from lowincome.config import with_database

# every test here reads marts that dbt built for the fixture
pytestmark = pytest.mark.slow

PLAN = "2013-2017"


def _rows(warehouse) -> dict[tuple[str, int, str], dict]:
    rows = query(warehouse, "select * from marts.county_evaluation where plan = %s", (PLAN,))
    return {(r["county_code"], r["year"], r["target_id"]): r for r in rows}


def _county_year(rows: dict, county: str, year: int) -> dict:
    """The county-year's composite columns (the same on each of its target rows)."""
    mine = [r for (c, y, _t), r in rows.items() if (c, y) == (county, year)]
    assert mine, (county, year)
    keys = ("evaluation_class", "targets_n", "targets_scored_n", "targets_met_n", "targets_not_met_n",
            "targets_suppressed_n", "targets_no_data_n", "weight_scored_pct", "score", "rank_in_class",
            "counties_ranked_n", "counties_in_class_n", "score_formula_en")
    assert len({tuple(r[k] for k in keys) for r in mine}) == 1, (county, year)
    return {k: mine[0][k] for k in keys}


@pytest.fixture(scope="module")
def evaluation(published) -> dict[tuple[str, int, str], dict]:
    return _rows(published)


# weights of the scoring tests: '*' 0 leaves out every target without a row of its own
WEIGHTS = [
    (PLAN, "*", None, 0),
    (PLAN, "T2", None, 2),
    (PLAN, "T6", None, 1),
    (PLAN, "T6", "group12", 3),        # the class's row wins over the target's
    (PLAN, "P4", None, 1),
    (PLAN, "T1", "group29_other", 1),  # T1 counts for the other counties of the 29 only
]


@pytest.fixture(scope="module")
def weighted_warehouse(published):
    """A copy of the published warehouse whose seed evaluation_weights is WEIGHTS, county_evaluation rebuilt."""
    from lowincome.transform import run_dbt

    url = published.warehouse_url()
    source = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    name = f"lowincome_eval_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source)))
    try:
        copy = dataclasses.replace(published, external_url=with_database(url, name))
        with psycopg.connect(copy.warehouse_url(), autocommit=True) as conn:
            conn.execute("delete from intermediate.evaluation_weights")
            for row in WEIGHTS:
                conn.execute("insert into intermediate.evaluation_weights (plan, target_id, evaluation_class, weight)"
                             " values (%s, %s, %s, %s)", row)
        run_dbt(copy, ["run", "--select", "county_evaluation"])
        yield copy
    finally:
        with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def weighted(weighted_warehouse) -> dict[tuple[str, int, str], dict]:
    return _rows(weighted_warehouse)


def test_each_county_is_in_its_class(evaluation):
    classes = {c: r["evaluation_class"] for (c, _y, _t), r in evaluation.items()}
    assert {code: classes[code] for code in (A, B, C, D, E)} == {
        A: "group12", E: "group12", B: "group29_other", C: "group29_other", D: "developed"}
    # the seed's 90 counties: the 12, the other 17 of the 29, 56 developed-area counties, none in 'other'
    per_class = {r["evaluation_class"]: r["counties_in_class_n"] for r in evaluation.values() if r["year"] == 2017}
    assert per_class == {"group12": 12, "group29_other": 17, "developed": 56}


def test_a_class_is_held_to_the_targets_of_its_population(evaluation):
    held = {}
    for (county, year, target), _r in evaluation.items():
        if year == 2017:
            held.setdefault(county, set()).add(target)
    # report-only targets (T7, P5), totals only (P2, R1, F2 of the 29), province targets (I1, I2): not evaluated
    for county in (A, B, C, D, E):
        assert not held[county] & {"T7", "P5", "P2", "R1", "I1", "I2", "M1"}, county
    assert {"T1", "T2", "T3", "T4", "T5", "T6", "P1", "P4", "R2", "R3", "F1", "M2", "S1", "S2"} <= held[A]
    assert held[A] == held[E]
    assert {"S1", "S2"} & held[B] == set() and "F2" not in held[B] and held[B] == held[C]
    # the developed-area county: the every-county targets and F2's five funds per county, no 29-county target
    assert {"T4", "T5", "T6", "P4", "F1", "F2"} <= held[D] and not {"T1", "T2", "S1", "R2"} & held[D]
    # the base year carries no verdict: not evaluated
    assert not any(year == 2012 for (_c, year, _t) in evaluation)


# (county, year, target, status, distance) -- the arithmetic is in the comments
STATUSES = [
    ("A", 2017, "T1", "met", "0"),          # 10000 and ratio 2.000
    ("E", 2017, "T1", "not_met", "0.334"),  # 10000: (10000 - 8000) / 10000 = 0.2; ratio (2 - 1.333) / 2 = 0.3335
    ("C", 2017, "T1", "not_met", "0.200"),  # ratio 2.0 met; (10000 - 8000) / 10000
    ("A", 2017, "T2", "met", "0"),          # 80.0 >= 70
    ("E", 2017, "T2", "not_met", "0.143"),  # (70 - 60) / 70 = 0.142857
    ("C", 2017, "T2", "not_met", "0.714"),  # (70 - 20) / 70 = 0.714286
    ("E", 2017, "T4", "not_met", "0.040"),  # standard (5000 - 4800) / 5000; top-up 85 met
    ("C", 2017, "T4", "not_met", "0.125"),  # standard 5200 met; top-up (80 - 70) / 80
    ("E", 2017, "T5", "not_met", "1"),      # a narrowing rule has no number: missed = 1
    ("A", 2017, "T5", "met", "0"),
    ("B", 2017, "T6", "not_met", "0.250"),  # 6 of 8 aided: (100 - 75) / 100
    ("E", 2017, "T6", "not_met", "0.500"),
    ("A", 2017, "P4", "not_met", "0.200"),  # 4 of 5 villages: (100 - 80) / 100
    ("E", 2017, "R2", "not_met", "0.071"),  # (8400 - 7800) / 8400 = 0.0714
    ("B", 2017, "P4", "no_data", None),     # B sent no villages
    ("D", 2017, "F1", "no_data", None),     # leverage met, no loans to judge the rate: no verdict
    ("D", 2017, "T6", "met", "0"),          # 12 of 12 aided
    ("C", 2016, "T1", "suppressed", None),  # 3 households: primary suppression (C)
    ("C", 2016, "T2", "suppressed", None),
    ("B", 2016, "T1", "suppressed", None),  # hidden with C (secondary suppression, D)
]
CODES = {"A": A, "B": B, "C": C, "D": D, "E": E}


@pytest.mark.parametrize(("county", "year", "target", "status", "distance"), STATUSES,
                         ids=[f"{t}-{c}-{y}" for c, y, t, *_ in STATUSES])
def test_status_and_distance(evaluation, county, year, target, status, distance):
    row = evaluation[(CODES[county], year, target)]
    assert row["status"] == status
    assert row["distance"] == (None if distance is None else Decimal(distance))
    if status == "suppressed":
        assert row["obs_conf"] in ("C", "D") and row["value"] is None and row["met"] is None


def test_default_weights_are_equal_and_the_score_is_their_mean(evaluation):
    assert {r["weight"] for r in evaluation.values()} == {Decimal(1)}
    for county in (A, B, C, D, E):
        for year in (2016, 2017):
            mine = [r for (c, y, _t), r in evaluation.items() if (c, y) == (county, year)]
            scored = [r["distance"] for r in mine if r["distance"] is not None]
            composite = _county_year(evaluation, county, year)
            assert composite["targets_n"] == len(mine)
            assert composite["targets_scored_n"] == len(scored)
            if scored:
                mean = 100 * sum(1 - d for d in scored) / len(scored)
                assert composite["score"] == round(mean, 1), (county, year)
            else:
                assert composite["score"] is None


def test_scores_and_ranks_under_the_seeds_weights(weighted):
    # 12 counties 2017: T2 weighs 2, T6 3 (the class's row), P4 1; T1 0 ('*')
    a, e = _county_year(weighted, A, 2017), _county_year(weighted, E, 2017)
    assert a["score"] == Decimal("96.7")     # 100 x (2 x 1 + 3 x 1 + 1 x (1 - 0.2)) / 6 = 96.67
    assert e["score"] == Decimal("70.2")     # 100 x (2 x 0.857 + 3 x 0.5 + 1 x 1) / 6 = 70.23
    assert (a["rank_in_class"], e["rank_in_class"]) == (1, 2)
    assert (a["targets_n"], a["targets_scored_n"], a["weight_scored_pct"]) == (3, 3, Decimal("100.0"))
    assert (e["targets_met_n"], e["targets_not_met_n"]) == (1, 2)
    assert weighted[(A, 2017, "T6")]["weight"] == 3 and weighted[(A, 2017, "T1")]["weight"] == 0
    assert weighted[(B, 2017, "T1")]["weight"] == 1 and weighted[(A, 2017, "S1")]["weight"] == 0
    # other counties of the 29, 2017: T2 2, T6 1, P4 1, T1 1; neither sent villages (P4: no data)
    b, c = _county_year(weighted, B, 2017), _county_year(weighted, C, 2017)
    assert b["score"] == Decimal("93.8")     # 100 x (2 x 1 + 1 x 0.75 + 1 x 1) / 4 = 93.75; P4 left out
    assert c["score"] == Decimal("59.3")     # 100 x (2 x 0.286 + 1 x 1 + 1 x 0.8) / 4 = 59.3; P4 left out
    assert (b["targets_n"], b["targets_scored_n"], b["targets_no_data_n"]) == (4, 3, 1)
    assert b["weight_scored_pct"] == Decimal("80.0")   # 4 of 5
    assert (b["rank_in_class"], c["rank_in_class"]) == (1, 2)
    assert b["counties_ranked_n"] == 2 and b["counties_in_class_n"] == 17


def test_a_suppressed_or_missing_figure_is_never_scored_as_zero(weighted):
    # 2016: B's and C's T1 and T2 are hidden, T6 and P4 have no data: no score, no rank, not a zero
    for county in (B, C):
        year = _county_year(weighted, county, 2016)
        assert year["score"] is None and year["rank_in_class"] is None
        assert year["targets_suppressed_n"] == 2 and year["targets_no_data_n"] == 2
        assert year["weight_scored_pct"] == Decimal("0.0")
    assert _county_year(weighted, B, 2016)["counties_ranked_n"] == 0
    # the 12 in 2016: only T2 can be judged (T6, P4: no data); A's 100 % meets it, E's share is far below
    # 70 %: a reported figure is scored however low it is, a missing one is not
    a, e = _county_year(weighted, A, 2016), _county_year(weighted, E, 2016)
    assert (a["score"], a["weight_scored_pct"], a["rank_in_class"]) == (Decimal("100.0"), Decimal("33.3"), 1)
    e_t2 = weighted[(E, 2016, "T2")]
    distance = ((70 - e_t2["value"]) / 70).quantize(Decimal("0.001"), ROUND_HALF_UP)
    assert e_t2["status"] == "not_met" and e_t2["distance"] == distance > Decimal("0.5")
    assert (e["score"], e["weight_scored_pct"], e["rank_in_class"]) == (
        (100 * (1 - distance)).quantize(Decimal("0.1"), ROUND_HALF_UP), Decimal("33.3"), 2)
    # a county that sent nothing: every target no data, no score
    silent = _county_year(weighted, "330104", 2017)
    assert silent["score"] is None and silent["targets_scored_n"] == 0 and silent["evaluation_class"] == "developed"


def test_the_formula_is_published_beside_the_figures(evaluation):
    row = evaluation[(A, 2017, "T1")]
    assert "evaluation_weights" in row["score_formula_en"] and "never scored as 0" in row["score_formula_en"]
    assert "不按0分计" in row["score_formula_zh"]


def test_the_report_ranks_each_class_and_explains_the_score(weighted_warehouse, tmp_path):
    import csv
    import re

    from lowincome.publish import write_report

    page = write_report(dataclasses.replace(weighted_warehouse, data_dir=tmp_path)).read_text(encoding="utf-8")
    assert 'id="evaluation"' in page and "分类考核评价 Classified evaluation" in page
    assert "never scored as 0" in page and "不按0分计" in page          # the formula beside the tables
    folder = tmp_path / "reports" / re.search(r'href="(data-[0-9a-f]{12})/', page).group(1)

    def table(name: str) -> list[dict]:
        assert f'data-dataset="{name}"' in page, name
        return list(csv.DictReader((folder / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines()))

    ranked = [(r["县代码 county code"], r["类别内排名 rank in class"], r["综合得分 score"])
              for r in table("evaluation-group12-2017")][:2]
    assert ranked == [(A, "1 / 2", "96.7"), (E, "2 / 2", "70.2")]
    others = {r["县代码 county code"]: r for r in table("evaluation-group29_other-2016")}
    assert others[C]["综合得分 score"] == "" and others[C]["保密(不计分) suppressed (not scored)"] == "T1 T2"
    assert others[C]["无数据(不计分) no data (not scored)"] == "P4 T6"
    assert table("evaluation-developed-2017")[0]["县代码 county code"] == D
