"""The monitoring report opened in headless Chromium through the DevTools protocol: it renders, its
charts are there, the console stays clean, no request leaves the page's own file, the year and county
filters change what is shown, and every CSV link opens a file holding what its table or chart shows."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from cdp import chromium, chromium_binary

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FACTS = """({
    title: document.title,
    charts: [...document.querySelectorAll('svg.chart')].filter(e => e.getClientRects().length).length,
    countyCharts: [...document.querySelectorAll('svg.county-chart')].filter(e => e.getClientRects().length).length,
    countyCharts2017: document.querySelectorAll('figure[data-dataset$="-counties-2017"] svg.county-chart').length,
    bars: [...document.querySelectorAll('svg.county-chart rect.bar')].filter(e => e.getClientRects().length).length,
    points: document.querySelectorAll('svg.trend-chart circle.point').length,
    cards: document.querySelectorAll('section.card').length,
    scorecardRows: [...document.querySelectorAll('table.scorecard tbody tr')].filter(e => e.getClientRects().length).length,
    chartWidth: [...document.querySelectorAll('svg.county-chart')].find(e => e.getClientRects().length)
                  .getBoundingClientRect().width,
    height: document.documentElement.scrollHeight,
    scripts: document.scripts.length,
    stylesheets: document.styleSheets.length,
    filters: !document.getElementById('filters').hidden
})"""

# what a visible dataset shows: its table's rows (cell texts, flags left out) or its chart's marks
SHOWN = """(() => {
  const text = cell => { const c = cell.cloneNode(true); c.querySelectorAll('.flag').forEach(f => f.remove());
                         return c.textContent.trim(); };
  return [...document.querySelectorAll('a.csv')].filter(a => !a.closest('[hidden]')).map(a => {
    const slug = a.dataset.dataset, out = {slug, href: a.href};
    const table = document.querySelector(`table[data-dataset="${slug}"]`);
    const figure = document.querySelector(`figure[data-dataset="${slug}"]`);
    if (table) {
      out.header = [...table.querySelectorAll('thead th')].map(th => th.textContent.replace(/\\s+/g, ''));
      out.rows = [...table.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(text));
    }
    if (figure) {
      out.bars = [...figure.querySelectorAll('rect.bar')].map(b => [b.dataset.label, b.dataset.value]);
      out.points = [...figure.querySelectorAll('circle.point')].map(p => [p.dataset.where, p.dataset.pointYear, p.dataset.value]);
    }
    return out;
  });
})()"""

PICK = """(() => {{ const s = document.getElementById('{id}'); s.value = '{value}';
                  s.dispatchEvent(new Event('change')); return s.value; }})()"""

VISIBLE_BY_YEAR = """({
  years: [...new Set([...document.querySelectorAll('.by-year')].filter(e => !e.hidden).map(e => e.dataset.year))],
  countyFigures: [...document.querySelectorAll('figure[data-dataset*="-counties-"]')]
                    .filter(f => !f.closest('[hidden]')).map(f => f.dataset.dataset),
  scorecards: [...document.querySelectorAll('table.scorecard')].filter(t => !t.closest('[hidden]'))
                 .map(t => t.dataset.dataset),
  countyRows: [...document.querySelectorAll('tr[data-county]')].filter(r => !r.hidden).map(r => r.dataset.county),
  chosen: [...document.querySelectorAll('svg .bar.chosen')].map(b => b.dataset.county),
  dimmed: document.querySelectorAll('svg .bar.dim').length,
  status: document.getElementById('filter-status').textContent
})"""


@pytest.fixture(scope="module")
def browser():
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI's .ci/run does)")
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def visit(browser, published_report, tmp_path_factory):
    out = tmp_path_factory.mktemp("screenshots")
    session, page = browser.visit(published_report.as_uri())
    facts = browser.evaluate(session, FACTS)
    shown = browser.evaluate(session, SHOWN)
    screenshot = browser.screenshot(session, out / "report.png")
    return page, facts, screenshot, shown


def test_the_report_renders_with_its_charts(visit):
    _page, facts, screenshot, _shown = visit
    assert "监测报告" in facts["title"]
    # 2017's county charts (the targets with 2017 figures) and the trend of every target with group figures
    # (24 of them: D1 is judged county by county only)
    assert facts["countyCharts"] == facts["countyCharts2017"] >= 20, facts
    assert facts["charts"] == facts["countyCharts"] + 24, facts
    assert facts["bars"] >= 60 and facts["points"] >= 40
    assert facts["cards"] >= 23 and facts["scorecardRows"] >= 23
    assert facts["chartWidth"] > 300 and facts["height"] > 5000
    assert facts["scripts"] == 1 and facts["stylesheets"] == 1     # the inline filter script and <style>
    assert facts["filters"]
    assert screenshot.stat().st_size > 50_000


def test_no_console_errors(visit):
    page, *_ = visit
    assert page.errors == []


def test_no_request_leaves_the_page(visit):
    page, *_ = visit
    assert page.requests, "the page load itself was not seen"
    outside = [url for url in page.requests if not url.startswith(("file://", "data:", "about:"))]
    assert outside == []
    assert page.failed == []


def _number(text: str) -> float | None:
    found = re.sub(r"[^0-9.\-]", "", text.replace("—", ""))
    return float(found) if found not in ("", "-", ".") else None


def _same(shown: str, written: str) -> bool:
    if shown == written or (shown == "—" and written == ""):
        return True
    return _number(shown) is not None and _number(written) is not None and (
        abs(_number(shown) - _number(written)) <= 0.5 * 10 ** -max(0, len(shown.split(".")[-1]) if "." in shown else 0))


def test_every_csv_link_opens_a_file_with_what_its_table_or_chart_shows(visit):
    _page, _facts, _shot, shown = visit
    assert len(shown) > 40
    for item in shown:
        path = Path(unquote(urlparse(item["href"]).path))
        assert path.is_file(), item["href"]
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")           # UTF-8 with BOM: Excel reads Chinese
        header, *rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
        if "rows" in item:
            assert len(rows) == len(item["rows"]), item["slug"]
            positions = [[h.replace(" ", "") for h in header].index(title) for title in item["header"]]
            for written, cells in zip(rows, item["rows"], strict=True):
                for position, cell in zip(positions, cells, strict=True):
                    assert _same(cell, written[position]), (item["slug"], cell, written[position])
        if item.get("bars"):
            value_at = header.index("数值 value")
            figures = [(r[header.index("县 county")], float(r[value_at])) for r in rows if r[value_at]]
            assert [(label, float(value)) for label, value in item["bars"]] == figures, item["slug"]
        if item.get("points"):
            written = [(r[0], r[1], float(r[2])) for r in rows]
            assert sorted((w, y, float(v)) for w, y, v in item["points"]) == sorted(written), item["slug"]
        assert "rows" in item or item.get("bars") or item.get("points"), item["slug"]


def test_the_year_filter_shows_that_year(browser, published_report):
    session, page = browser.visit(published_report.as_uri())
    before = browser.evaluate(session, VISIBLE_BY_YEAR)
    assert before["years"] == ["2017"] and before["scorecards"] == ["scorecard-2017"]
    assert browser.evaluate(session, PICK.format(id="filter-year", value="2016")) == "2016"
    after = browser.evaluate(session, VISIBLE_BY_YEAR)
    assert after["years"] == ["2016"] and after["scorecards"] == ["scorecard-2016"]
    assert after["countyFigures"] and all(slug.endswith("-counties-2016") for slug in after["countyFigures"])
    assert "2016" in after["status"] and page.errors == []


def test_the_county_filter_keeps_its_rows_and_marks_its_columns(browser, published_report):
    session, page = browser.visit(published_report.as_uri())
    everyone = browser.evaluate(session, VISIBLE_BY_YEAR)
    assert len(set(everyone["countyRows"])) > 1 and everyone["chosen"] == [] and everyone["dimmed"] == 0
    browser.evaluate(session, PICK.format(id="filter-county", value="330803"))
    one = browser.evaluate(session, VISIBLE_BY_YEAR)
    assert set(one["countyRows"]) == {"330803"}
    assert one["chosen"] and set(one["chosen"]) == {"330803"} and one["dimmed"] > 0
    assert "衢江区" in one["status"] and page.errors == []
