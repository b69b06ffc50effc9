"""The report's content, read as files (its rendering, filters and downloads are tested in tests/browser)."""

from __future__ import annotations

import base64
import csv
import hashlib
import re

import pytest
from fixture_data import EXPLANATION

from lowincome.publish import write_report
from lowincome.publish.charts import Bar, county_columns, format_value, scale_for, trend

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(published) -> str:
    stale = published.reports_dir / "data-000000000000"
    stale.mkdir(parents=True, exist_ok=True)          # a previous night's files
    path = write_report(published)
    assert path == published.reports_dir / "index.html"
    assert not stale.exists()
    return path.read_text(encoding="utf-8")


def _csv(published, page: str, name: str) -> list[list[str]]:
    folder = re.search(r'href="(data-[0-9a-f]{12})/', page).group(1)
    return list(csv.reader((published.reports_dir / folder / name).read_text(encoding="utf-8-sig").splitlines()))


def test_every_collected_target_has_its_charts(report):
    for target in ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "P1", "P2", "P3", "P4", "P5", "P6", "R1", "R2",
                   "R3", "F1", "F2", "S1", "S2", "S3", "D1", "M2", "I1", "I2"):
        assert f'<h3 id="{target}">{target} ' in report
        assert f'data-dataset="{target}-counties-' in report
        # a trend of the groups, except for D1: judged county by county, it has no group figures to draw
        assert (f'data-dataset="{target}-trend"' in report) == (target != "D1"), target
    assert "D1 is judged county by county: no group figures" in report
    assert report.count('class="chart trend-chart"') == 24
    assert report.count('class="chart county-chart"') > 25       # one per year with figures
    assert 'id="M1"' in report and "The submission templates carry no data" in report


def test_nothing_is_fetched_from_anywhere(report):
    assert "<link" not in report and "<img" not in report and "<script src" not in report
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report)
    assert "@import" not in report and "url(" not in report
    assert "default-src 'none'" in report     # and the page forbids it, should anything slip in
    script = re.search(r"<script>(.*?)</script>", report, re.S).group(1)     # the one inline script, by its hash
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in report


def test_summaries_completeness_and_revisions_are_there(report):
    assert "29县 The 29 counties" in report and "12县 The 12 counties" in report
    assert EXPLANATION in report                       # C's forced submission
    assert "state-late" in report and "state-missing" in report
    assert 'data-dataset="reconciliation-' in report   # the processing workers differ


def test_suppressed_counties_are_named_not_shown(report):
    """The cards show 2017 first, where nothing is suppressed for T1."""
    t1_2017 = report.split('data-dataset="T1-counties-2017"')[1].split('class="by-year"')[0]
    assert "Suppressed" not in t1_2017


def test_every_target_code_has_its_short_label_and_the_verdicts_say_why(published, report):
    header, *rows = _csv(published, report, "scorecard-2017.csv")
    assert header[:2] == ["目标 target", "简称 short name"]
    assert len(rows) == 26 and all(row[1] for row in rows)
    t1 = next(row for row in rows if row[0] == "T1")
    why = t1[header.index("未达标原因 why not met")]
    assert t1[header.index("达标 verdict")] == "未达标 not met" and "标准1" in why and "标准2" in why


def test_the_targets_met_figure_says_what_it_counts(report):
    assert "each target once, at the total of its population" in report
    assert re.search(r"among the \d+ with a verdict; \d+ targets have figures for 2017", report)


def test_csv_files_are_excel_readable_utf8(published, report):
    folder = re.search(r'href="(data-[0-9a-f]{12})/', report).group(1)
    files = sorted((published.reports_dir / folder).iterdir())
    assert len(files) > 100 and all(f.read_bytes().startswith(b"\xef\xbb\xbf") for f in files)
    assert {f.name for f in files} == set(re.findall(rf'href="{folder}/([^"]+)"', report))


def test_values_are_formatted_for_people():
    assert format_value(9043.0, "yuan") == "9,043 元"
    assert format_value(66.666, "percent") == "66.7%"
    assert format_value(1.8, "ratio") == "1.800"
    assert format_value(-0.4, "pp") == "-0.4 pp"
    assert format_value(None, "yuan") == "—"


def test_an_axis_has_one_unit():
    """Ticks of 0-12,000 yuan read 0 / 0.5 / 1 万元, never 5000 beside 1万."""
    chart = county_columns([Bar("衢江区", 12000.0, True), Bar("景宁县", 4000.0, False)], unit="yuan",
                           threshold=10000.0, title="T1")
    assert chart.axis_title == "万元"
    assert [t.label for t in chart.ticks] == ["0", "0.5", "1", "1.5"]
    assert scale_for(3.0e8, "persons").title == "亿人" and scale_for(5000, "yuan").title == "元"
    assert scale_for(80, "percent").short(80) == "80%"


def test_a_red_column_above_the_line_is_marked():
    chart = county_columns([Bar("衢江区", 10500.0, False, "标准2 未达"), Bar("景宁县", 10200.0, True),
                            Bar("柯城区", 8000.0, False), Bar("龙游县", None, None)],
                           unit="yuan", threshold=10000.0, title="T1")
    assert [(b.bar.label, b.flagged) for b in chart.bars] == [("衢江区", True), ("景宁县", False), ("柯城区", False)]
    assert chart.threshold_y is not None
    line = trend([], unit="yuan", threshold=None, title="empty", years=[2012, 2017])
    assert line.lines == [] and line.points == []


def test_a_warehouse_with_nothing_loaded_still_publishes(fresh_warehouse):
    """The first night may have loaded nothing: the marts build empty and the report says so."""
    from marts_harness import SECOND_PUBLICATION

    from lowincome.publish import refresh_grants, refresh_marts

    refresh_marts(fresh_warehouse, SECOND_PUBLICATION)
    refresh_grants(fresh_warehouse)
    page = write_report(fresh_warehouse).read_text(encoding="utf-8")
    assert "No figures published yet." in page and "No submissions received yet." in page
    assert 'class="chart' not in page


def test_suppressed_counties_are_named_under_their_chart(published, report):
    """A county hidden for its own sake (C) or to protect another (D) has no column: the notes name it."""
    folder = re.search(r'href="(data-[0-9a-f]{12})/', report).group(1)
    flags_seen = set()
    for path in sorted((published.reports_dir / folder).glob("*-counties-*.csv")):
        header, *rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
        flags_at, county_at = header.index("标记 flags"), header.index("县 county")
        hidden = [r[county_at] for r in rows if set(r[flags_at]) & {"C", "D"}]
        if not hidden:
            continue
        flags_seen |= {flag for r in rows for flag in r[flags_at] if flag in "CD"}
        notes = report.split(f'<figure data-dataset="{path.stem}">')[1].split('<p class="notes">')[1].split("</p>")[0]
        assert all(name in notes for name in hidden), (path.stem, hidden)
    assert flags_seen == {"C", "D"}
