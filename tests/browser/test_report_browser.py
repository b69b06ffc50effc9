"""The monitoring report opened in headless Chromium through the DevTools protocol: it renders, its
charts are there, the console stays clean, and no request leaves the page's own file."""

from __future__ import annotations

import pytest
from cdp import chromium, chromium_binary

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def visit(published_report, tmp_path_factory):
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI's .ci/run does)")
    out = tmp_path_factory.mktemp("screenshots")
    with chromium(log_file=out / "chromium.log") as browser:
        session, page = browser.visit(published_report.as_uri())
        facts = browser.evaluate(session, """({
            title: document.title,
            charts: document.querySelectorAll('svg.chart').length,
            countyCharts: document.querySelectorAll('svg.county-chart').length,
            bars: document.querySelectorAll('svg.county-chart rect.bar').length,
            points: document.querySelectorAll('svg.trend-chart circle.point').length,
            cards: document.querySelectorAll('section.card').length,
            scorecardRows: document.querySelectorAll('table.scorecard tbody tr').length,
            chartWidth: document.querySelector('svg.county-chart').getBoundingClientRect().width,
            height: document.documentElement.scrollHeight,
            scripts: document.scripts.length,
            stylesheets: document.styleSheets.length
        })""")
        screenshot = browser.screenshot(session, out / "report.png")
    return page, facts, screenshot


def test_the_report_renders_with_its_charts(visit):
    _page, facts, screenshot = visit
    assert "监测报告" in facts["title"]
    assert facts["charts"] == 44 and facts["countyCharts"] == 22
    assert facts["bars"] >= 60 and facts["points"] >= 40
    assert facts["cards"] >= 23 and facts["scorecardRows"] >= 23
    assert facts["chartWidth"] > 300 and facts["height"] > 5000
    assert facts["scripts"] == 0 and facts["stylesheets"] == 1     # the inline <style> only
    assert screenshot.stat().st_size > 50_000


def test_no_console_errors(visit):
    page, _facts, _shot = visit
    assert page.errors == []


def test_no_request_leaves_the_page(visit):
    page, _facts, _shot = visit
    assert page.requests, "the page load itself was not seen"
    outside = [url for url in page.requests if not url.startswith(("file://", "data:", "about:"))]
    assert outside == []
    assert page.failed == []
