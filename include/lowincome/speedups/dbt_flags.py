"""dbt run in-process by cosmos: the behaviour flags' source found without ``inspect.stack()``.

Part of :mod:`lowincome.speedups` (``LOWINCOME_SPEEDUPS=0`` turns it off). Every task of
``build_warehouse`` starts dbt once, so a cost paid per dbt start is paid ~50 times a night:

* **Behaviour flags look up their source by walking the whole stack with ``inspect.stack()``.** When
  the adapter is registered, ``dbt_common.behavior_flags.BehaviorFlagRendered`` computes a default
  ``flag_source`` for each of ~30 flags (even for flags that name their source: the default argument is
  evaluated first) with ``inspect.stack()``, which reads the source lines of every frame and maps every
  frame to a module. Inside an Airflow task the stack is ~100 frames deep and ~4,000 modules are
  loaded: ~15 ms per flag, ~0.45 s per task here, for a label that only appears in a
  behaviour-change log event. :func:`install` replaces that lookup with a walk of the frames' globals
  (the same answer: the first calling module that is not ``behavior_flags`` itself).
  (The other per-start cost, JSON artifacts nobody reads, is dbt's own ``--no-write-json``:
  :data:`lowincome.transform.project.GLOBAL_FLAGS`.)

:func:`install` is checked against the dbt-common versions it was written for; on another version it
is not installed and dbt runs as shipped (slower, never wrong).
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata

from lowincome.speedups import enabled

log = logging.getLogger(__name__)

CHECKED_FOR = ("1.39.",)
_installed = False


def flag_source(skip: str) -> str:
    """The innermost calling module other than ``skip`` and this one (what ``_default_source`` returns)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name not in (skip, __name__) and name in sys.modules:
            return name
        frame = frame.f_back
    return "Unknown"


def install() -> bool:
    """Replace ``BehaviorFlagRendered._default_source`` (once per process); False when not installed."""
    global _installed
    if _installed:
        return True
    if not enabled():
        return False
    version = metadata.version("dbt-common")
    if not version.startswith(CHECKED_FOR):
        log.warning("dbt-common %s: the behaviour-flag source lookup is left as shipped (checked for %s)",
                    version, ", ".join(CHECKED_FOR))
        return False
    from dbt_common import behavior_flags

    module = behavior_flags.__name__
    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(lambda: flag_source(module))
    _installed = True
    return True
