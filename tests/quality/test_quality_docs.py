"""Data Docs build from the stored results and render with no network."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

from quality_rows import COUNTY, YEAR, columns_of, good_row

from lowincome.quality import build_data_docs, validate_load_table


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


def test_a_night_renders_only_the_results_it_added(cfg, load_table):
    """Result pages never change once written: a rebuild renders the new results, the suites and the
    index, and leaves the pages of earlier nights alone (cost grows with the night, not the history)."""
    _validate_one(cfg, load_table, 1)
    build_data_docs(cfg)
    site = cfg.docs_dir / "validation"
    earlier = {page: page.stat().st_mtime_ns for page in (site / "validations").rglob("*.html")}
    suites = {page: page.stat().st_mtime_ns for page in (site / "expectations").glob("*.html")}
    assert earlier and len(suites) == 7
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


def test_the_index_reads_stored_json_and_lists_what_gx_lists(cfg, load_table, monkeypatch):
    """index_entries_from_json gives GX's index page the success flag and meta it would have loaded (from
    the entries kept by the last build, or the stored JSON), and keys_listed_once the same keys from one
    listing of the store, json_copied_once the same JSON of the page's content: the page is GX's own."""
    import contextlib

    from lowincome.quality import docs
    from lowincome.quality.context import project_context

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
    entries = cfg.docs_dir / docs.INDEX_ENTRIES
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
    monkeypatch.setattr(docs, "index_entries_from_json", lambda *args, **kwargs: contextlib.nullcontext())
    monkeypatch.setattr(docs, "keys_listed_once", lambda context: contextlib.nullcontext())
    monkeypatch.setattr(docs, "json_copied_once", contextlib.nullcontext)
    assert build_data_docs(cfg).read_text(encoding="utf-8") == light    # GX's own page, built GX's own way
    build_data_docs(cfg, full=True)
    assert _pages(site) == ours    # and every page
    assert "ge-failed-icon" in light and "ge-success-icon" in light
