"""The report's content, read as a file (its rendering is tested in tests/browser)."""

from __future__ import annotations

import re

import pytest
from fixture_data import EXPLANATION

from lowincome.publish import write_report
from lowincome.publish.charts import Bar, county_columns, format_value, trend

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(published) -> str:
    path = write_report(published)
    assert path == published.reports_dir / "index.html"
    return path.read_text(encoding="utf-8")


def test_every_collected_target_has_its_two_charts(report):
    for target in ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "P1", "P2", "P3", "P4", "P5", "R1", "R2", "R3",
                   "F1", "F2", "S1", "S2", "M2", "I1", "I2"):
        assert f'<h3 id="{target}">' in report
    assert report.count('class="chart county-chart"') == 22
    assert report.count('class="chart trend-chart"') == 22
    assert 'id="M1"' in report and "templates carry no data" in report


def test_nothing_is_fetched_from_anywhere(report):
    assert "<script" not in report and "<link" not in report and "<img" not in report
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report)
    assert "@import" not in report and "url(" not in report
    assert "default-src 'none'" in report     # and the page forbids it, should anything slip in


def test_summaries_completeness_and_revisions_are_there(report):
    assert "29县 The 29 counties" in report and "12县 The 12 counties" in report
    assert EXPLANATION in report                       # C's forced submission
    assert "state-late" in report and "state-missing" in report
    assert "Every comparison is within tolerance" not in report   # the processing workers differ


def test_suppressed_counties_are_named_not_shown(report):
    """2016 is not the latest year, so the cards show 2017, where nothing is suppressed for T1."""
    assert "Suppressed" not in report.split('id="T1"')[1].split('class="card"')[0]


def test_values_are_formatted_for_people():
    assert format_value(9043.0, "yuan") == "9,043 元"
    assert format_value(66.666, "percent") == "66.7%"
    assert format_value(1.8, "ratio") == "1.800"
    assert format_value(-0.4, "pp") == "-0.4 pp"
    assert format_value(None, "yuan") == "—"


def test_charts_are_svg_with_a_mark_per_county_and_the_threshold():
    svg = county_columns([Bar("衢江区", 10000.0, True), Bar("景宁县", 8000.0, False), Bar("柯城区", None, None)],
                         unit="yuan", threshold=10000.0, title="T1")
    assert svg.startswith("<svg") and svg.count('class="bar"') == 2 and 'class="threshold"' in svg
    line = trend([], unit="yuan", threshold=None, title="empty", years=[2012, 2017])
    assert line.startswith("<svg") and "<polyline" not in line


def test_a_warehouse_with_nothing_loaded_still_publishes(fresh_warehouse):
    """The first night may have loaded nothing: the marts build empty and the report says so."""
    from marts_harness import SECOND_PUBLICATION

    from lowincome.publish import refresh_grants, refresh_marts

    refresh_marts(fresh_warehouse, SECOND_PUBLICATION)
    refresh_grants(fresh_warehouse)
    page = write_report(fresh_warehouse).read_text(encoding="utf-8")
    assert "No figures published yet." in page and "No submissions received yet." in page
    assert 'class="chart' not in page
