"""GX's Data Docs site builder, faster: the results store listed once, GX's JSON copied once, the index
read from each stored result's success flag and meta.

Part of :mod:`lowincome.speedups` (``LOWINCOME_SPEEDUPS=0`` turns it off: GX builds the site as
shipped). Used by :func:`lowincome.quality.docs.build_data_docs` around GX's ``build_data_docs``.
Each context manager replaces a GX method for the duration of the build and puts it back on exit;
``tests/quality/test_quality_docs.py`` compares the pages with GX's own.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path

INDEX_ENTRIES = ".validation-index-entries.json"


@contextlib.contextmanager
def faster_site_build(context, site_root: Path, *, fresh: bool) -> Iterator[None]:
    """All three below, for one build of the site at ``site_root`` (its index entries kept beside it)."""
    with keys_listed_once(context), json_copied_once(), \
            index_entries_from_json(context, site_root.with_name(INDEX_ENTRIES), fresh=fresh):
        yield


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
