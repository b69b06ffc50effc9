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

The installation is checked against the GX version it was written for: on another version it is not
installed and validation runs as shipped (slower, never wrong).
"""

from __future__ import annotations

import contextlib
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
    _installed = True
    return True


@contextlib.contextmanager
def memoised_configurations() -> Iterator[None]:
    """Inside the block (this thread only), an expectation builds its configuration once."""
    outer = getattr(_local, "memo", None)
    _local.memo = {} if outer is None else outer
    try:
        yield
    finally:
        _local.memo = outer
