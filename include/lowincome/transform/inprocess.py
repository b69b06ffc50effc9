"""dbt run in-process by cosmos (``InvocationMode.DBT_RUNNER``): costs that do not depend on the node.

Every task of ``build_warehouse`` starts dbt once, so a cost paid per dbt start is paid ~50 times a night.
Profiled (cProfile) on the warehouse DAG through ``dag.test()``, two such costs stood out; both are
removed here without changing what dbt does:

* **Behaviour flags look up their source by walking the whole stack with ``inspect.stack()``.** When
  the adapter is registered, ``dbt_common.behavior_flags.BehaviorFlagRendered`` computes a default
  ``flag_source`` for each of ~30 flags (even for flags that name their source: the default argument is
  evaluated first) with ``inspect.stack()``, which reads the source lines of every frame and maps every
  frame to a module. Inside an Airflow task the stack is ~100 frames deep and ~4,000 modules are
  loaded: ~15 ms per flag, ~0.45 s per task here, for a label that only appears in a
  behaviour-change log event. :func:`install` replaces that lookup with a walk of the frames' globals
  (the same answer: the first calling module that is not ``behavior_flags`` itself).
* **dbt writes ``manifest.json`` (twice) and ``run_results.json`` into the task's scratch copy of the
  project**, which cosmos deletes after the task; nothing reads them (the OpenLineage provider is not
  installed, so cosmos's lineage parsing has nothing to feed). :data:`GLOBAL_FLAGS` passes
  ``--no-write-json``; the partial-parse file, which cosmos caches for the next task, is still written.

:func:`install` is checked against the dbt-common versions it was written for; on another version it
is not installed and dbt runs as shipped (slower, never wrong).
"""

from __future__ import annotations

import logging
import sys
from importlib import metadata

log = logging.getLogger(__name__)

CHECKED_FOR = ("1.39.",)
GLOBAL_FLAGS = ["--no-write-json"]
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
