"""GX Data Docs of the stored validation results, built into ``$LOWINCOME_DATA_DIR/docs/validation/``.

GX's pages load jQuery, Bootstrap, Font Awesome, bootstrap-table, Vega … from public CDNs, so on the
statistics office's network (no internet) they render broken. After GX builds the site we rewrite
every such URL to a local copy under ``static/vendor/``, copied from Python packages that ship the
files (pinned like any dependency):

* ``xstatic-jquery`` (jQuery 3.7.1, the version GX asks for),
* ``xstatic-bootstrap`` 4.5.3 (GX asks for 4.3.1; the 4.x bundle includes Popper, so the separate
  Popper script goes),
* ``xstatic-font-awesome`` 6.2.1 (GX asks for 6.6.0; the icons GX uses exist in both).

No Python package ships bootstrap-table. GX uses it only to turn a JSON array into a table (our pages
need neither its filter-control extension nor the date picker that extension loads), so a small local
script, :data:`TABLE_SCRIPT`, renders the same ``columns``/``data`` and keeps GX's row links. The Vega
scripts are removed: they draw charts for distribution expectations, which no suite of ours has; the
optional dark-mode stylesheet is removed too. GX's logo comes from its own package (``static/images``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from lowincome.config import Settings
from lowincome.quality.context import project_context
from lowincome.quality.suites import suite_file

log = logging.getLogger(__name__)
SITE = "validation_site"
# Beside the site: the index entries of the stored results, read once (index_entries_from_json).
INDEX_ENTRIES = ".validation-index-entries.json"

# CDN URL -> (package, file inside the package's data folder, path under static/vendor/)
VENDORED: dict[str, tuple[str, str, str]] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": ("xstatic.pkg.jquery", "jquery.min.js", "jquery/jquery.min.js"),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        ("xstatic.pkg.bootstrap", "css/bootstrap.min.css", "bootstrap/css/bootstrap.min.css"),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        ("xstatic.pkg.bootstrap", "js/bootstrap.bundle.min.js", "bootstrap/js/bootstrap.bundle.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        ("xstatic.pkg.font_awesome", "css/all.min.css", "font-awesome/css/all.min.css"),
}
# Folders the vendored files refer to (Font Awesome's CSS loads ../webfonts/*).
VENDORED_DIRS = [("xstatic.pkg.font_awesome", "webfonts", "font-awesome/webfonts")]
TABLE_SCRIPT_URL = "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js"
TABLE_SCRIPT_PATH = "bootstrap-table-lite/bootstrap-table-lite.js"
# Loaded by GX's pages but not needed by ours (see the module docstring): the tags are removed.
DROPPED = (
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/",
    "https://unpkg.com/bootstrap-table@",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@",
    "https://cdn.jsdelivr.net/npm/vega",
)
GX_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"

TABLE_SCRIPT = """\
/* Renders GX Data Docs tables offline: the subset of bootstrap-table's API that GX's pages call
   ($(el).bootstrapTable({columns, data, rowAttributes, rowStyle}) and the click-row.bs.table event).
   Written for the lowincome project; no sorting or filter controls. */
(function ($) {
  function lookup(fn) { return typeof fn === "string" ? window[fn] : fn; }
  $.fn.bootstrapTable = function (options) {
    if (typeof options === "string") { return this; }  // methods such as 'clearFilterControl'
    var opts = options || {};
    return this.each(function () {
      var $table = $(this).addClass("table table-hover table-sm").empty();
      var columns = opts.columns || [];
      var $row = $("<tr>");
      columns.forEach(function (c) { $row.append($("<th>").html(c.title || c.field || "")); });
      $table.append($("<thead>").append($row));
      var $body = $("<tbody>");
      var rowAttributes = lookup(opts.rowAttributes), rowStyle = lookup(opts.rowStyle);
      (opts.data || []).forEach(function (record, index) {
        var $tr = $("<tr>");
        if (rowAttributes) { $.each(rowAttributes(record, index) || {}, function (k, v) { $tr.attr(k, v); }); }
        if (rowStyle) { $tr.css((rowStyle(record, index) || {}).css || {}); }
        columns.forEach(function (c) {
          var value = record[c.field];
          $tr.append($("<td>").html(value === undefined || value === null ? "" : String(value)));
        });
        $tr.on("click", function () { $table.trigger("click-row.bs.table", [record, $tr]); });
        $body.append($tr);
      });
      $table.append($body);
    });
  };
})(jQuery);
"""

_TAG = re.compile(r"<(script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"[^>]*>(?:\s*</script>)?", re.I)
_IMAGE = re.compile(re.escape(GX_IMAGES) + r"([A-Za-z0-9_.-]+)(?:\?[^\"']*)?")


def build_data_docs(cfg: Settings, *, full: bool = False) -> Path:
    """Build the validation Data Docs site and make it render with no network; returns index.html.

    Incremental: a validation result's page never changes once written (results are immutable), so a
    night renders only the results that have no page yet, the suite pages older than their suite's
    file and the index (whose entries come from :func:`index_entries_from_json`). GX's
    full build renders every result ever stored (~30-250 ms each: a five-year warehouse holds
    ~2,700), which made the cost of publishing grow with the history instead of with the night.
    ``full`` (or a site without an index) renders everything, as after a GX upgrade.
    """
    site_root = cfg.docs_dir / "validation"
    context = project_context(cfg)
    rebuild = full or not (site_root / "index.html").is_file()
    with keys_listed_once(context), json_copied_once(), \
            index_entries_from_json(context, site_root.with_name(INDEX_ENTRIES), fresh=rebuild):
        pending = None if rebuild else unrendered(context, site_root)
        if pending is None:
            context.build_data_docs(site_names=[SITE])
            pages: list[Path] = list(site_root.rglob("*.html"))
        else:
            suites = changed_suites(cfg, context, site_root)
            # never an empty list: GX reads an empty resource_identifiers as "everything"
            context.build_data_docs(site_names=[SITE], resource_identifiers=(suites + pending) or
                                    list(context.expectations_store.list_keys()))
            pages = [site_root / "index.html", *(site_root / "expectations").glob("*.html"),
                     *(_page(site_root, key) for key in pending)]
    log.info("Data Docs: %s pages rendered", "all" if pending is None else len(pages))
    vendor = site_root / "static" / "vendor"
    copy_vendored_assets(vendor)
    for page in pages:
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        offline = localise(text, os.path.relpath(site_root, page.parent).replace(os.sep, "/"))
        if offline != text:
            page.write_text(offline, encoding="utf-8")
    return site_root / "index.html"


def docs_bytes(site_root: Path) -> dict[str, int]:
    """Bytes of a built validation site by part: ``results`` (the validation result pages), ``index``,
    ``suites`` (the expectation suites' pages), ``static`` (GX's and the vendored assets, the same for
    every site), and ``pages`` (how many result pages)."""
    def size(paths) -> int:
        return sum(path.stat().st_size for path in paths if path.is_file())

    pages = list((site_root / "validations").rglob("*.html"))
    index = site_root / "index.html"
    return {"results": size(pages), "pages": len(pages), "index": size([index]),
            "suites": size((site_root / "expectations").rglob("*.html")),
            "static": size((site_root / "static").rglob("*"))}


@contextlib.contextmanager
def keys_listed_once(context) -> Iterator[None]:
    """While the site is built: the stored results are listed once, and each run time parsed once.

    GX's site builder lists the validation results store again for each section and for the index
    (with :func:`unrendered`, five listings of every stored result a night), and every listing turns
    each key's run time back into a datetime with ``dateutil.parser.parse`` (~50 µs a key); so does
    every page key of the site it lists for the index. Nothing writes to the results store while the
    site is built, so inside this block the store answers ``list_keys`` from its first listing, and
    ``RunIdentifier`` parses each distinct run-time string once (datetimes are immutable: sharing one
    is safe). Both are put back on exit.
    """
    from great_expectations.core import run_identifier

    store = context.validation_results_store
    first_listing = functools.cache(store.list_keys)
    shipped_parse = run_identifier.parse
    store.list_keys = lambda: list(first_listing())  # a list of its own for each caller
    run_identifier.parse = functools.lru_cache(maxsize=None)(shipped_parse)
    try:
        yield
    finally:
        run_identifier.parse = shipped_parse
        del store.list_keys  # the class's method again


@contextlib.contextmanager
def json_copied_once() -> Iterator[None]:
    """While the site is built: GX turns its rendered content into JSON copying each level once.

    ``RenderedContent.rendered_content_dict_to_json`` deep-copies the dict it is given and then
    converts each nested dict and list of the copy, which deep-copies them again: every level of a table
    is copied once per level above it. The index page is one table row per stored result (2,556 on a
    five-year warehouse): those copies cost a night ~0.1 s (the index and the night's pages) and a build
    that renders the suites' pages too ~0.4 s, growing with the history. Inside this block each dict becomes a new dict whose nested content is converted (so
    new dicts and lists) and whose plain values (text, numbers, flags) are shared, as GX already does for
    the items of a list. GX's page views write into the dicts they are given (``render_dict_values``),
    which are new here as before. The method is put back on exit; ``tests/quality`` compares the pages
    with GX's own.
    """
    from great_expectations.render.components import RenderedContent

    shipped = vars(RenderedContent)["rendered_content_dict_to_json"]

    def rendered_content_dict_to_json(cls, dict_, check_list_dicts=True):
        json_dict = dict(dict_)
        for key, val in json_dict.items():
            if isinstance(val, RenderedContent):
                json_dict[key] = val.to_json_dict()
            elif isinstance(val, list):
                json_dict[key] = cls.rendered_content_list_to_json(val, check_list_dicts)
            elif isinstance(val, dict):
                json_dict[key] = cls.rendered_content_dict_to_json(val, check_list_dicts)
        return json_dict

    RenderedContent.rendered_content_dict_to_json = classmethod(rendered_content_dict_to_json)
    try:
        yield
    finally:
        RenderedContent.rendered_content_dict_to_json = shipped


@contextlib.contextmanager
def index_entries_from_json(context, cache_file: Path | None = None, *, fresh: bool = False) -> Iterator[None]:
    """While GX builds the site, its index reads each stored result's success flag and meta, not the whole
    result, and (with ``cache_file``) reads them from the results' own files only once.

    The index lists every validation result ever stored, and to do so GX loads each one through its
    marshmallow schema (~5 ms a result) only to read its success flag and its meta (batch spec, asset
    name): on a five-year warehouse (2,556 results) that was ~7 s of every night's publishing, growing
    with the history. Inside this block the context's ``get_validation_result`` (which GX's site
    builder calls for the index alone; result pages read the store themselves) answers with a result
    holding those fields and no expectation results. Anything but a plain lookup of one stored result
    goes to GX's own method. ``tests/quality`` compares the index page with GX's own.

    Those fields come from ``json.loads`` of the stored text (~30-50 KB a result: ~0.4 ms each, ~1 s a
    night at 2,556 results), or from ``cache_file``: a stored result never changes (its key holds its
    run time), so its entry (~0.6 KB) is kept there once read, and a night reads the results it added.
    The file keeps the entries this build asked for (a result removed from the store drops out);
    ``fresh`` ignores what it holds.
    """
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    shipped = context.get_validation_result
    known: dict[str, dict] = {} if fresh or cache_file is None else _read_entries(cache_file)
    asked: dict[str, dict] = {}

    def entry(store, key) -> dict:
        stored_key = store.key_to_tuple(key)
        name = "/".join(stored_key)
        found = known.get(name)
        if found is None:
            stored = json.loads(store.store_backend.get(stored_key))
            # the meta as text: each lookup builds its own dicts (GX may change what it is given)
            found = {"success": stored["success"], "suite_name": stored.get("suite_name"),
                     "meta": json.dumps(stored.get("meta") or {}, ensure_ascii=False)}
        asked[name] = found
        return found

    def get_validation_result(expectation_suite_name, run_id=None, batch_identifier=None,
                              validation_results_store_name=None, failed_only=False):
        store = context.stores.get(validation_results_store_name or context.validation_results_store_name)
        if run_id is not None and batch_identifier is not None and not failed_only and store is not None:
            key = ValidationResultIdentifier(expectation_suite_identifier=ExpectationSuiteIdentifier(
                name=expectation_suite_name), run_id=run_id, batch_identifier=batch_identifier)
            try:
                found = entry(store, key)
                return ExpectationSuiteValidationResult(success=found["success"], results=[],
                                                        suite_name=found["suite_name"] or expectation_suite_name,
                                                        meta=json.loads(found["meta"]))
            except Exception:  # noqa: BLE001, S110 - missing, unreadable or unexpected: GX's own path decides
                pass
        return shipped(expectation_suite_name, run_id=run_id, batch_identifier=batch_identifier,
                       validation_results_store_name=validation_results_store_name, failed_only=failed_only)

    context.get_validation_result = get_validation_result
    try:
        yield
    finally:
        del context.get_validation_result  # the class's method again
    if cache_file is not None and asked != known:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        scratch = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(asked, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        scratch.replace(cache_file)


def _read_entries(cache_file: Path) -> dict[str, dict]:
    """The cached index entries of the right shape; nothing (everything is read again) when the file is
    missing or unreadable."""
    try:
        found = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {name: entry for name, entry in found.items()
            if isinstance(entry, dict) and isinstance(entry.get("success"), bool)
            and isinstance(entry.get("meta"), str) and isinstance(entry.get("suite_name"), str | None)}


def changed_suites(cfg: Settings, context, site_root: Path) -> list:
    """The expectation suites whose page is missing or older than the suite's file (the page shows the
    suite alone; ``full`` renders them all, as after a GX upgrade)."""
    changed = []
    for key in context.expectations_store.list_keys():
        page = site_root / "expectations" / f"{key.name}.html"
        suite = suite_file(cfg, key.name)
        try:
            if page.stat().st_mtime_ns >= suite.stat().st_mtime_ns:
                continue
        except OSError:
            pass
        changed.append(key)
    return changed


def unrendered(context, site_root: Path) -> list:
    """The stored validation results that have no page in the site yet."""
    return [key for key in context.validation_results_store.list_keys() if not _page(site_root, key).is_file()]


def _page(site_root: Path, key) -> Path:
    # the site's layout: validations/<suite>/<run name>/<run time>/<batch>.html (GX's HtmlSiteStore)
    *folders, batch = key.to_tuple()
    return site_root.joinpath("validations", *folders, f"{batch}.html")


def copy_vendored_assets(vendor: Path) -> None:
    for _url, (package, source, target) in VENDORED.items():
        _copy(_package_data(package) / source, vendor / target)
    for package, source, target in VENDORED_DIRS:
        shutil.copytree(_package_data(package) / source, vendor / target, dirs_exist_ok=True)
    (vendor / TABLE_SCRIPT_PATH).parent.mkdir(parents=True, exist_ok=True)
    (vendor / TABLE_SCRIPT_PATH).write_text(TABLE_SCRIPT, encoding="utf-8")


def localise(html: str, root: str) -> str:
    """Point CDN scripts and stylesheets at static/vendor (``root``: path from the page to the site)."""
    base = f"{root}/static/vendor/"

    def _tag(match: re.Match) -> str:
        url = match.group(2)
        if url in VENDORED:
            return match.group(0).replace(url, base + VENDORED[url][2])
        if url == TABLE_SCRIPT_URL:
            return f'<script src="{base}{TABLE_SCRIPT_PATH}"></script>'
        if url.startswith(DROPPED):
            return ""
        if match.group(1).lower() == "link" and "stylesheet" not in match.group(0).lower():
            return match.group(0)  # a plain link (not a resource the page loads)
        log.warning("Data Docs page loads %s, which has no local copy", url)
        return match.group(0)

    html = _TAG.sub(_tag, html)
    # integrity/crossorigin attributes named the CDN files; the local copies differ
    html = re.sub(r'\s+(integrity="[^"]*"|crossorigin="[^"]*")', "", html)
    return _IMAGE.sub(lambda m: f"{root}/static/images/{m.group(1)}", html)


def _package_data(package: str) -> Path:
    module = importlib.import_module(package)
    return Path(module.BASE_DIR)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
