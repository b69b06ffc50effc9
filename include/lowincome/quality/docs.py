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
import importlib
import logging
import os
import re
import shutil
from pathlib import Path

from lowincome import speedups
from lowincome.config import Settings
from lowincome.quality.context import project_context
from lowincome.quality.suites import suite_file

log = logging.getLogger(__name__)
SITE = "validation_site"
# Beside the site: the index entries of the stored results, read once (index_entries_from_json).

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
    file and the index (with the speed-ups on, :mod:`lowincome.speedups.gx_docs`). GX's
    full build renders every result ever stored (a five-year warehouse holds ~2,700), which made the cost of publishing grow with the history instead of with the night.
    ``full`` (or a site without an index) renders everything, as after a GX upgrade.
    """
    site_root = cfg.docs_dir / "validation"
    context = project_context(cfg)
    rebuild = full or not (site_root / "index.html").is_file()
    with contextlib.ExitStack() as faster:
        if speedups.enabled():
            from lowincome.speedups import gx_docs

            faster.enter_context(gx_docs.faster_site_build(context, site_root, fresh=rebuild))
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
