"""The validation Data Docs opened in headless Chromium: the index and a result's page render offline
with no console error and no request leaving the site, and a file whose only failures are warnings
shows the warning icon, a rejected one the failure icon (issue 23.6)."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import psycopg
import pytest
from cdp import chromium, chromium_binary

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))

from quality_rows import COUNTY, YEAR, columns_of, create_load_table, good_row  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ICONS = """({
  rows: document.querySelectorAll('table tbody tr').length,
  warning: [...document.querySelectorAll('.ge-warning-icon')].filter(e => e.getClientRects().length).length,
  failed: [...document.querySelectorAll('.ge-failed-icon, .fa-times')].filter(e => e.getClientRects().length).length,
  text: document.body.innerText
})"""


@pytest.fixture(scope="module")
def site(cfg, tmp_path_factory) -> Path:
    from lowincome.quality import build_data_docs, validate_load_table

    own = dataclasses.replace(cfg, data_dir=tmp_path_factory.mktemp("docs") / "data")
    files = {"relocations": [good_row("relocations", 1) | {"household_subsidy": "99999"}],   # a warning
             "households": [good_row("households", 1), good_row("households", 2) | {"status": "未知"}]}
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        for template, rows in files.items():
            table = create_load_table(conn, template, rows)
            try:
                validate_load_table(own, load_table=table, template=template, county_code=COUNTY, year=YEAR,
                                    columns=columns_of(template), explanation=None)
            finally:
                conn.execute(f"drop table if exists {table}")
    return build_data_docs(own).parent


@pytest.fixture(scope="module")
def browser():
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI's .ci/run does)")
    with chromium() as running:
        yield running


def _open(browser, page: Path, shots: Path):
    session, visit = browser.visit(page.as_uri())
    facts = browser.evaluate(session, ICONS)
    browser.screenshot(session, shots / f"{page.parent.parent.parent.name}-{page.stem}.png")
    outside = [url for url in visit.requests if not url.startswith(("file://", "data:", "about:"))]
    return visit, facts, outside


def test_the_index_and_the_pages_open_clean_and_show_warnings_as_warnings(browser, site, tmp_path):
    visit, facts, outside = _open(browser, site / "index.html", tmp_path)
    assert visit.errors == [] and outside == []
    assert facts["rows"] >= 2 and facts["warning"] == 1 and facts["failed"] == 1, facts
    assert "+08:00" in facts["text"] and "Stay current" not in facts["text"]

    [warned] = (site / "validations" / "relocations").rglob("*.html")
    visit, facts, outside = _open(browser, warned, tmp_path)
    assert visit.errors == [] and outside == []
    assert re.search(r"Status:\s*Passed with warnings", facts["text"]) and facts["warning"] >= 2 and facts["failed"] == 0, facts

    [failed] = (site / "validations" / "households").rglob("*.html")
    visit, facts, outside = _open(browser, failed, tmp_path)
    assert visit.errors == [] and outside == []
    assert re.search(r"Status:\s*Failed", facts["text"]) and facts["failed"] >= 1, facts
