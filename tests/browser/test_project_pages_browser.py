"""The public 公告公示 pages (reports/public/) opened in headless Chromium: the index links each county's
page, a county page shows its years and projects with the flags, the console stays clean (a blocked
style or script would be an error), no request leaves the page's own file, and no personal data is on it."""

from __future__ import annotations

import re

import pytest
from cdp import chromium, chromium_binary

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FACTS = """({
    title: document.title,
    summaryYears: [...document.querySelectorAll('table.summary tbody tr')].map(r => r.dataset.year),
    summary2017: [...document.querySelectorAll('table.summary tr[data-year="2017"] td')].map(td => td.textContent.trim()),
    projects: [...document.querySelectorAll('table.projects tbody tr')].map(r => r.dataset.project),
    notAnnounced: [...document.querySelectorAll('[data-flag="not_announced"]')].map(f => f.closest('tr').dataset.project),
    early: [...document.querySelectorAll('[data-flag="disbursed_early"]')].map(f => f.closest('tr').dataset.project),
    flagVisible: [...document.querySelectorAll('.flag')].every(f => f.getClientRects().length > 0),
    scripts: document.scripts.length,
    stylesheets: document.styleSheets.length,
    text: document.body.innerText
})"""

INDEX = """({
    links: [...document.querySelectorAll('a[data-county]')].map(a => [a.dataset.county, a.textContent, a.href]),
})"""


@pytest.fixture(scope="module")
def pages(cfg, tmp_path_factory, request):
    import marts_harness
    from project_fixture import disclosed_warehouse

    from lowincome.publish.project_pages import write_project_pages

    request.addfinalizer(marts_harness.drop_all)
    warehouse = disclosed_warehouse(cfg, tmp_path_factory.mktemp("public"))
    return write_project_pages(warehouse)


@pytest.fixture(scope="module")
def browser():
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI's .ci/run does)")
    with chromium() as running:
        yield running


def test_the_index_links_every_county_page(browser, pages):
    session, visit = browser.visit(pages.as_uri())
    links = browser.evaluate(session, INDEX)["links"]
    assert [(code, name) for code, name, _href in links] == [("330803", "衢江区"), ("330881", "江山市")]
    assert all(href == (pages.parent / f"{code}.html").as_uri() for code, _name, href in links)
    assert visit.errors == [] and visit.failed == []


def test_a_county_page_shows_its_projects_and_flags(browser, pages, tmp_path):
    session, visit = browser.visit((pages.parent / "330803.html").as_uri())
    facts = browser.evaluate(session, FACTS)
    assert facts["title"].startswith("衢江区扶贫项目资金公告公示")
    assert facts["summaryYears"] == ["2017"]
    assert facts["summary2017"] == ["2017", "7", "1,190,000.00", "750,001.00", "63.0%", "2", "3"]
    assert sorted(facts["projects"]) == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    assert sorted(facts["notAnnounced"]) == ["P2", "P3"] and sorted(facts["early"]) == ["P2", "P4", "P6"]
    assert facts["flagVisible"]
    assert facts["scripts"] == 0 and facts["stylesheets"] == 1          # no script at all, one inline <style>
    assert not re.search(r"\d{17}[\dX]", facts["text"])                    # no ID number anywhere
    shot = browser.screenshot(session, tmp_path / "330803.png")
    assert shot.stat().st_size > 20_000


def test_no_console_error_and_no_request_leaves_the_pages(browser, pages):
    for page in sorted(pages.parent.glob("*.html")):
        _session, visit = browser.visit(page.as_uri())
        assert visit.errors == [], page.name
        assert visit.requests, page.name
        outside = [url for url in visit.requests if not url.startswith(("file://", "data:", "about:"))]
        assert outside == [] and visit.failed == [], page.name
