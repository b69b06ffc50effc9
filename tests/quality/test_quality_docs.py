"""Data Docs build from the stored results and render with no network."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from quality_rows import COUNTY, YEAR, columns_of, good_row

from lowincome import speedups
from lowincome.quality import build_data_docs, validate_load_table
from lowincome.templates import templates


@pytest.fixture
def own_site(cfg, tmp_path):
    """The session's warehouse with a data folder of this test's own: its results store and Data Docs
    hold only what the test validated (the session's folder holds every test's results)."""
    return dataclasses.replace(cfg, data_dir=tmp_path / "data")


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.loaded.append(values["src"])
        if tag == "link" and values.get("href") and "stylesheet" in (values.get("rel") or "") + "icon":
            self.loaded.append(values["href"])
        if tag == "img" and values.get("src"):
            self.loaded.append(values["src"])


def test_data_docs_render_offline(cfg, load_table):
    bad = good_row("households", 2) | {"status": "未知"}
    validate_load_table(cfg, load_table=load_table("households", [good_row("households", 1), bad]),
                        template="households", county_code=COUNTY, year=YEAR, columns=columns_of("households"),
                        explanation=None)
    index = build_data_docs(cfg)
    site = cfg.docs_dir / "validation"
    assert index == site / "index.html" and index.exists()
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 2
    for page in pages:
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        remote = [url for url in parser.loaded if url.startswith(("http://", "https://", "//"))]
        assert remote == [], f"{page.relative_to(site)} loads {remote}"
        for url in parser.loaded:  # every local script, stylesheet and image is there
            assert (page.parent / url.split("?")[0]).resolve().exists(), f"{page.relative_to(site)}: {url}"
    assert (site / "static" / "vendor" / "jquery" / "jquery.min.js").exists()
    assert any((site / "static" / "vendor" / "font-awesome" / "webfonts").iterdir())


def _validate_one(cfg, load_table, number: int) -> None:
    validate_load_table(cfg, load_table=load_table("households", [good_row("households", number)]),
                        template="households", county_code=COUNTY, year=YEAR, columns=columns_of("households"),
                        explanation=None)


def test_a_night_renders_only_the_results_it_added(own_site, load_table):
    """Result pages never change once written: a rebuild renders the new results, the suites and the
    index, and leaves the pages of earlier nights alone (cost grows with the night, not the history)."""
    cfg = own_site
    _validate_one(cfg, load_table, 1)
    build_data_docs(cfg)
    site = cfg.docs_dir / "validation"
    earlier = {page: page.stat().st_mtime_ns for page in (site / "validations").rglob("*.html")}
    suites = {page: page.stat().st_mtime_ns for page in (site / "expectations").glob("*.html")}
    assert earlier and len(suites) == len(templates())
    _validate_one(cfg, load_table, 2)
    index = build_data_docs(cfg)
    pages = set((site / "validations").rglob("*.html"))
    added = pages - set(earlier)
    assert len(added) == 1, added
    assert all(page.stat().st_mtime_ns == mtime for page, mtime in earlier.items())
    # a suite's page is rendered again only when it is older than the suite's file
    assert all(page.stat().st_mtime_ns == mtime for page, mtime in suites.items())
    stale = next(iter(suites))
    os.utime(stale, ns=(0, 0))
    build_data_docs(cfg)
    assert stale.stat().st_mtime_ns > 0
    assert all(page.stat().st_mtime_ns == mtime for page, mtime in suites.items() if page != stale)
    assert "https://" not in next(iter(added)).read_text(encoding="utf-8").split("<body")[0]
    links = index.read_text(encoding="utf-8")
    for page in pages:  # the index lists every result, old and new
        assert page.relative_to(site).as_posix() in links, page

    lost = next(iter(earlier))
    lost.unlink()  # a page gone missing (a cleaned-up site) is rendered again
    build_data_docs(cfg)
    assert lost.is_file()
    full = build_data_docs(cfg, full=True)
    assert full == index and set((site / "validations").rglob("*.html")) == pages


def _pages(site: Path) -> dict[Path, str]:
    """Every page of the site, the random ids GX gives collapsible blocks made one."""
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    return {page: uuid.sub("<id>", page.read_text(encoding="utf-8")) for page in site.rglob("*.html")}


@pytest.mark.skipif(not speedups.enabled(), reason="the speed-ups are off (LOWINCOME_SPEEDUPS=0)")
def test_the_index_reads_stored_json_and_lists_what_gx_lists(cfg, load_table, monkeypatch):
    """lowincome.speedups.gx_docs: index_entries_from_json gives GX's index page the success flag and meta
    it would have loaded (from the entries kept by the last build, or the stored JSON), and
    keys_listed_once the same keys from one listing of the store, json_copied_once the same JSON of the
    page's content: the page is GX's own (built with the speed-ups switched off)."""
    from lowincome.quality.context import project_context
    from lowincome.speedups import gx_docs

    bad = good_row("households", 2) | {"status": "未知"}
    for rows in ([good_row("households", 1), bad], [good_row("households", 3)]):
        validate_load_table(cfg, load_table=load_table("households", rows), template="households",
                            county_code=COUNTY, year=YEAR, columns=columns_of("households"), explanation=None)
    build_data_docs(cfg)  # renders the two results' pages
    store = project_context(cfg).validation_results_store

    def no_loading(value):
        raise AssertionError("the index loaded a whole result")

    def no_reading(key):
        raise AssertionError(f"the index read {key} again")

    backend, listings = store.store_backend, []
    shipped_list = backend.list_keys
    with monkeypatch.context() as patched:  # a night with nothing new: the index alone
        patched.setattr(store, "deserialize", no_loading)
        patched.setattr(backend, "get", no_reading)  # the entries read by the last build are kept beside the site
        patched.setattr(backend, "list_keys", lambda *args: listings.append(args) or shipped_list(*args))
        light = build_data_docs(cfg).read_text(encoding="utf-8")
    assert len(listings) == 1            # keys_listed_once: GX's sections and index share one listing
    assert "list_keys" not in vars(store)
    entries = cfg.docs_dir / gx_docs.INDEX_ENTRIES
    damaged = {name: {"success": True, "suite_name": "households", "meta": {}}
               for name in json.loads(entries.read_text(encoding="utf-8"))}
    for kept in (None, "not json", json.dumps(damaged)):   # without them, or damaged
        entries.unlink() if kept is None else entries.write_text(kept)
        with monkeypatch.context() as patched:  # each result's stored JSON then, not GX's loading
            patched.setattr(store, "deserialize", no_loading)
            assert build_data_docs(cfg).read_text(encoding="utf-8") == light
    site = cfg.docs_dir / "validation"
    build_data_docs(cfg, full=True)
    ours = _pages(site)
    monkeypatch.setenv(speedups.SWITCH, "0")
    assert build_data_docs(cfg).read_text(encoding="utf-8") == light    # GX's own page, built GX's own way
    build_data_docs(cfg, full=True)
    assert _pages(site) == ours    # and every page
    assert "ge-failed-icon" in light and "ge-success-icon" in light


# --- what a reader sees: severities, times, no vendor footer, a bounded size (issue 23.6) -----------

class _Text(HTMLParser):
    """A page's visible text (scripts and styles left out), whitespace collapsed."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return re.sub(r"\s+", " ", " ".join(parser.parts))


_INDEX_ROW = re.compile(r"\{'validation_success': '(?P<cell>.*?)', 'run_time': '(?P<time>[^']*)'.*?"
                        r"'_table_row_link_path': '(?P<path>[^']*)'", re.S)
_UTC_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b|\bUTC\b")
_SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _validated(cfg, load_table, template: str, rows: list[dict]):
    return validate_load_table(cfg, load_table=load_table(template, rows), template=template, county_code=COUNTY,
                               year=YEAR, columns=columns_of(template), explanation=None)


def _run_time(page: Path) -> dt.datetime:
    """The run time in a result page's path (GX's key: ``…/<run name>/20141207T114949.143634Z/<batch>.html``)."""
    return dt.datetime.strptime(page.parent.name, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=dt.UTC)


def test_a_failed_warning_is_a_warning_in_asia_shanghai_time_without_a_vendor_footer(own_site, load_table):
    """A file whose only failures are warn rules loaded: the index and its page show ⚠ "Passed with
    warnings", never the red ✗ of a failed run; a file failing a rejecting rule stays ✗ "Failed". Every
    time shown is Asia/Shanghai, and no page carries GX's newsletter footer."""
    cfg = own_site
    warned = _validated(cfg, load_table, "relocations", [good_row("relocations", 1) | {"household_subsidy": "99999"}])
    assert not warned.file_rejected
    assert {r.severity for r in warned.results if not r.success} == {"warn"}
    failed = _validated(cfg, load_table, "households",
                        [good_row("households", n) for n in range(1, 6)] + [good_row("households", 6) | {"status": "未知"}])
    assert {r.severity for r in failed.results if not r.success} == {"reject_row"}
    index = build_data_docs(cfg)
    site = index.parent
    [warn_page] = (site / "validations" / "relocations").rglob("*.html")
    [fail_page] = (site / "validations" / "households").rglob("*.html")

    rows = {m["path"]: (m["cell"], m["time"]) for m in _INDEX_ROW.finditer(index.read_text(encoding="utf-8"))}
    assert set(rows) == {warn_page.relative_to(site).as_posix(), fail_page.relative_to(site).as_posix()}
    for page, icon, not_icon in ((warn_page, "ge-warning-icon", "ge-failed-icon"),
                                 (fail_page, "ge-failed-icon", "ge-warning-icon")):
        cell, shown = rows[page.relative_to(site).as_posix()]
        assert icon in cell and not_icon not in cell, (page.name, cell)
        # the run's time, in Asia/Shanghai, to the second
        at = dt.datetime.strptime(shown, "%Y-%m-%d %H:%M:%S %z")
        assert at.utcoffset() == dt.timedelta(hours=8) and shown.endswith("+08:00")
        assert at == _run_time(page).replace(microsecond=0)

    warn_html = warn_page.read_text(encoding="utf-8")
    warn_text = _Text.of(warn_html)
    assert "Status: Passed with warnings" in warn_text and "Status: Failed" not in warn_text
    assert "ge-warning-icon" in warn_html and "fa-times" not in warn_html  # the warn rule's row is ⚠ too
    assert "到户补助超过每人5600元的标准" in warn_text     # the rule that failed, with the county's reason
    fail_html = fail_page.read_text(encoding="utf-8")
    assert "Status: Failed" in _Text.of(fail_html) and "fa-times text-danger" in fail_html
    for page in (warn_page, fail_page):
        text = _Text.of(page.read_text(encoding="utf-8"))
        local = _run_time(page).astimezone(_SHANGHAI).strftime("%Y-%m-%d %H:%M:%S +08:00")
        assert f"Run Time {local}" in text, text[:2000]
        assert not _UTC_TIME.search(text), _UTC_TIME.search(text)

    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "newsletter" not in html.lower() and "Stay current" not in html, page.relative_to(site)


def test_the_docs_of_a_file_are_bounded(own_site, load_table):
    """A file's page does not grow with its failing rows (row numbers only, at most 20 a rule; the rules
    that passed are counted, not listed), and a file keeps its newest results only: a county sending the
    same file again and again leaves KEEP_RESULTS_PER_FILE pages, not one a night."""
    from lowincome.quality.context import project_context
    from lowincome.quality.docs import docs_bytes
    from lowincome.quality.results import KEEP_RESULTS_PER_FILE

    cfg = own_site
    bad = [good_row("households", n) | {"status": "未知", "household_size": "x", "labour_count": "-1"}
           for n in range(1, 301)]
    sends = KEEP_RESULTS_PER_FILE + 2
    for _ in range(sends):
        outcome = _validated(cfg, load_table, "households", bad)
        assert outcome.file_rejected
    _validated(cfg, load_table, "relocations", [good_row("relocations", 1)])
    index = build_data_docs(cfg)
    site = index.parent
    kept = sorted((site / "validations" / "households").rglob("*.html"), key=_run_time)
    assert len(kept) == KEEP_RESULTS_PER_FILE
    assert len(project_context(cfg).validation_results_store.list_keys()) == KEEP_RESULTS_PER_FILE + 1
    links = index.read_text(encoding="utf-8")
    assert all(page.relative_to(site).as_posix() in links for page in kept)

    size = docs_bytes(site)
    assert size["pages"] == KEEP_RESULTS_PER_FILE + 1
    per_file = (size["results"] + size["index"]) / size["pages"]
    assert per_file < 40_000, size    # GX's page listing every rule was ~75-80 KB
    failing = kept[-1].read_text(encoding="utf-8")
    assert failing.count("<tr") < 80                      # the failed rules, not the ~60 that passed
    assert "rules passed and are not listed here" in _Text.of(failing)
