"""Submission completeness against the reporting calendar, and the reconciliation mart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixture_data import EXPLANATION, A, B, C, D, E
from marts_harness import query

# every test here reads marts that dbt built for the fixture
pytestmark = pytest.mark.slow


def _cell(published, county: str, template: str, year: int = 2017) -> dict:
    return query(published, """select * from marts.submission_completeness
        where county_code = %s and template = %s and year = %s""", (county, template, year))[0]


def test_on_time_late_missing_and_forced(published):
    a = _cell(published, A, "household_income")
    assert (a["submission_state"], a["on_time"], a["rejected_rows_pct"]) == ("on_time", True, Decimal("0.0"))
    b = _cell(published, B, "household_income")
    assert (b["submission_state"], b["days_late"], b["files_rejected"], b["files_accepted"]) == ("late", 15, 1, 1)
    assert b["rejected_rows_pct"] == Decimal("40.0")      # 4 of 10 rows
    c = _cell(published, C, "households")
    assert (c["submission_state"], c["files_accepted"], c["forced_submissions"]) == ("on_time", 2, 1)
    assert c["current_is_forced"] is True and c["explanations"] == EXPLANATION
    # judged by the receipt date the file carries (received_on), a day in Asia/Shanghai: D's file arrived
    # on 31 March and is on time although the night that loaded it was 1 April; E's arrived on 1 April
    d = _cell(published, D, "county_indicators")
    assert (d["on_time"], d["first_accepted_on"].isoformat()) == (True, "2018-03-31")
    assert _cell(published, E, "county_indicators")["days_late"] == 1
    assert _cell(published, E, "relocations")["submission_state"] == "missing"
    assert _cell(published, "330000", "province_indicators")["on_time"] is True


def test_every_county_template_and_year_is_listed(published):
    rows = query(published, """select count(*) as n, count(distinct county_code) as counties,
        min(year) as first, max(year) as last from marts.submission_completeness""")[0]
    counties = query(published, "select count(*) as n from warehouse.dim_county")[0]["n"]
    assert (rows["first"], rows["last"]) == (2012, 2017)
    # six county templates every year, project_funds from 2013 (the reporting calendar), the province's one
    assert rows["n"] == (counties * 6 + 1) * 6 + counties * 5
    assert rows["counties"] == counties + 1


def test_reconciliation_lists_differences_beyond_tolerance(published):
    rows = query(published, """select check_id, geography_code, left_value, right_value, within_tolerance
        from marts.reconciliation where year = 2017""")
    found = {(r["check_id"], r["geography_code"]): r for r in rows}
    workers = found[("processing_workers", A)]
    assert (workers["left_value"], workers["right_value"], workers["within_tolerance"]) == (
        Decimal("10"), Decimal("400000"), False)   # programme rows vs the county indicator
    assert found[("monitored_households", A)]["within_tolerance"] is True   # 6 with income, 6 in the register
    rollup = found[("sum_of_counties:relocated_persons", "group29")]
    assert (rollup["left_value"], rollup["within_tolerance"]) == (Decimal("60000"), True)
    province = found[("province_rural_income", "330000")]
    assert province["right_value"] == Decimal("17000") and province["within_tolerance"] is False
