"""Each expectation's configuration built once per validation, not ~50 times (GX's own hot spot).

Profiled on a night of small files (cProfile, GX 1.24.1): about a third of the time GX spends in
``validate`` goes to ``Expectation.configuration``, a property that serialises the whole pydantic model
(``self.dict()``) into a fresh ``ExpectationConfiguration`` on every access, and GX reads it for every
domain, success and runtime keyword of every metric it plans (~70 accesses per expectation per file).

:func:`memoised_configurations` makes the property return the object it built the first time for the
same expectation object, but only inside the ``with`` block and only in the thread that entered it
(validation of one load table): everywhere else GX behaves as shipped. Within the block:

* an entry holds the expectation object itself, so an ``id`` is never reused for another object;
* assigning any attribute of an expectation drops its entry (the next access builds it again);
* nothing in GX's validation path mutates the configuration it gets back (checked for 1.24.1:
  ``great_expectations/expectations`` and ``validator`` only read ``.kwargs``/``.meta`` or update copies);
  ``tests/quality/test_memo.py`` compares every suite's results with and without the memo.

Second hot spot, same profile: every ``MetricConfiguration`` GX plans hashes its keyword dicts
(``IDDict.to_id``) through ``convert_to_json_serializable``, a chain of ``isinstance`` checks per
value (pydantic, GX's serialisable classes, NaN), ~80,000 times for 30 small files. :func:`plain_id`
makes the same id without it when every value is plain JSON (str, int, bool, None, a float that is not
NaN, lists, tuples and dicts of those with text keys): for such values that function returns them
unchanged (tuples as lists, which ``json.dumps`` writes the same way), so the JSON, and its MD5, are
identical; anything else takes GX's own path. Installed for the whole process, as the ids are the same.

The installation is checked against the GX version it was written for: on another version it is not
installed and validation runs as shipped (slower, never wrong).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

CHECKED_FOR = ("1.24.",)
_local = threading.local()
_installed = False


def install(ge: Any) -> bool:
    """Wrap ``Expectation.configuration`` and ``__setattr__`` (once per process); False if not installed."""
    global _installed
    if _installed:
        return True
    if not ge.__version__.startswith(CHECKED_FOR):
        log.warning("great_expectations %s: configuration memo not installed (checked for %s)",
                    ge.__version__, ", ".join(CHECKED_FOR))
        return False
    from great_expectations.expectations.expectation import Expectation

    build = Expectation.configuration.fget
    assign = Expectation.__setattr__

    def configuration(self):
        memo = getattr(_local, "memo", None)
        if memo is None:
            return build(self)
        entry = memo.get(id(self))
        if entry is None or entry[0] is not self:
            entry = memo[id(self)] = (self, build(self))
        return entry[1]

    def __setattr__(self, name, value):  # noqa: N807 - the method it wraps
        memo = getattr(_local, "memo", None)
        if memo is not None:
            memo.pop(id(self), None)
        assign(self, name, value)

    configuration.__doc__ = build.__doc__
    Expectation.configuration = property(configuration)
    Expectation.__setattr__ = __setattr__
    _install_plain_id()
    _installed = True
    return True


def _plain(value: Any) -> bool:
    """JSON that ``convert_to_json_serializable`` would hand back as it is (tuples become lists)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return value == value  # NaN becomes None there
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    if kind is dict or kind is _IDDict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    return False


_IDDict: Any = None


def plain_id(values: dict) -> str | None:
    """GX's id of these (two or more) keyword values, or None when GX's own conversion is needed."""
    if not _plain(values):
        return None
    # not used for security: GX's stable cache key, computed as GX does (md5 of sorted-key JSON)
    return hashlib.md5(json.dumps(values, sort_keys=True).encode("utf-8"), usedforsecurity=False).hexdigest()


def _install_plain_id() -> None:
    global _IDDict
    from great_expectations.core.id_dict import IDDict

    _IDDict = IDDict
    shipped = IDDict.to_id

    def to_id(self, id_keys=None, id_ignore_keys=None):
        keys = set(self.keys() if id_keys is None else id_keys) - set(
            self._id_ignore_keys if id_ignore_keys is None else id_ignore_keys)
        if len(keys) > 1:
            found = plain_id({key: self[key] for key in keys})
            if found is not None:
                return found
        return shipped(self, id_keys, id_ignore_keys)

    to_id.__doc__ = shipped.__doc__
    to_id.shipped = shipped  # type: ignore[attr-defined]
    IDDict.to_id = to_id


@contextlib.contextmanager
def memoised_configurations() -> Iterator[None]:
    """Inside the block (this thread only), an expectation builds its configuration once."""
    outer = getattr(_local, "memo", None)
    _local.memo = {} if outer is None else outer
    try:
        yield
    finally:
        _local.memo = outer
