"""Great Expectations' validation, faster: its plan built once, not per file and per access.

Part of :mod:`lowincome.speedups` (``LOWINCOME_SPEEDUPS=0`` turns it all off). Installed by
:func:`lowincome.quality.context.gx` and used by :meth:`lowincome.quality.context.Runner.batch`.

First hot spot: each expectation's configuration built once per validation, not ~50 times.

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

Third, the plan (:func:`reused_batch`): for every expectation of every file GX works out which metrics it needs
(``get_validation_dependencies``) and the graph of what those metrics depend on
(``MetricsCalculator.build_metric_dependency_graph``), about half of GX's time on a small file. Both
are functions of the expectation's configuration (its kwargs: column, value set, pattern, the file's
county and year once substituted, and the batch id), the runtime configuration (the result format)
and the execution engine, never of the data: :func:`reused_batch` validates each
template through one table asset per thread, pointed at each load table in turn, so the batch id and
hence the plan repeat from file to file, and :func:`memoised_configurations` reuses them (a new
``ValidationDependencies`` and ``ValidationGraph`` around the same metric configurations, which GX
only reads after building them). What GX computes from the data is never reused: GX resolves every
metric of the graph anew in each validation, and the execution engine's own cache of metric values,
keyed by the same ids (and grown by every file of a night until now), is turned off
(:func:`without_metric_cache`): GX consults it only for a dependency the run has not computed itself,
which does not happen, but with repeating ids it would hold the previous file's values.
``tests/quality/test_memo.py`` validates a failing and a clean file in turn, and two threads at once,
against GX without the memo. Measured on 30 files of 2,000 rows (in-process, the validation call
alone): 4.4 s without the plan memo, 2.1-2.6 s with it.

Last, GX "saves" an ephemeral context's configuration after every change to a data source by rendering
all of it to YAML into an in-memory store that nothing reads (three times a file when an asset is added
and removed per file): :func:`skip_configuration_saves` skips that on the runner's context.

The installation is checked against the GX version it was written for: on another version it is not
installed and validation runs as shipped (slower, never wrong).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import quoted_name

from lowincome.speedups import enabled

log = logging.getLogger(__name__)

CHECKED_FOR = ("1.24.",)
_local = threading.local()
_installed = False


def install(ge: Any) -> bool:
    """Wrap ``Expectation.configuration`` and ``__setattr__`` (once per process); False if not installed."""
    global _installed
    if _installed:
        return True
    if not enabled():
        return False
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
    _install_plans(Expectation)
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


# --- the plan memo --------------------------------------------------------------------------------

PLANS_KEPT = 20_000  # entries (an expectation's dependencies or graph); the memo starts afresh past it
_plans: dict[tuple, tuple[Any, Any, Any]] = {}
_plans_lock = threading.Lock()


def _in_block() -> bool:
    return getattr(_local, "memo", None) is not None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _remember(key: tuple, engine: Any, runtime_configuration: dict | None, build: Any) -> Any:
    """The value planned for ``key`` on this very engine, built (and kept) on first use.

    GX's planning also fills in the runtime configuration it is given (``parse_result_format`` adds the
    result format's defaults to the caller's dict, which later expectations of the same file then
    see): the state it left is kept with the plan and put back on reuse, so the caller's dict changes
    exactly as it would have.
    """
    entry = _plans.get(key)
    if entry is None or entry[0] is not engine:
        value = build()
        after = copy.deepcopy(runtime_configuration)
        with _plans_lock:
            if len(_plans) >= PLANS_KEPT:
                _plans.clear()
            _plans[key] = entry = (engine, value, after)
    elif runtime_configuration is not None and entry[2] is not None:
        _restore(runtime_configuration, entry[2])
    return entry[1]


def _restore(target: dict, state: dict) -> None:
    """Make ``target`` hold ``state`` in place (nested dicts keep their identity: others hold them)."""
    for key, value in state.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _restore(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _classes_defining(root: type, name: str) -> list[type]:
    found, seen = [], [root]
    for cls in seen:
        seen += [sub for sub in cls.__subclasses__() if sub not in seen]
        if name in vars(cls):
            found.append(cls)
    return found


def _install_plans(expectation_class: type) -> None:
    from great_expectations.validator.metrics_calculator import MetricsCalculator
    from great_expectations.validator.validation_graph import ValidationGraph
    from great_expectations.validator.validator import ValidationDependencies

    build_graph = MetricsCalculator.build_metric_dependency_graph

    def build_metric_dependency_graph(self, metric_configurations, runtime_configuration=None):
        if not _in_block():
            return build_graph(self, metric_configurations, runtime_configuration)
        engine = self._execution_engine
        key = ("graph", id(engine), tuple(m.id for m in metric_configurations), _json(runtime_configuration))
        planned = _remember(key, engine, runtime_configuration,
                            lambda: build_graph(self, metric_configurations, runtime_configuration))
        return ValidationGraph(execution_engine=engine, edges=list(planned.edges))

    build_metric_dependency_graph.__doc__ = build_graph.__doc__
    MetricsCalculator.build_metric_dependency_graph = build_metric_dependency_graph

    # Each class's own method is wrapped; a subclass's ``super()`` call reaches its parent's wrapper,
    # which passes straight through (``_local.planning``): only the outermost call is memoised.
    for cls in _classes_defining(expectation_class, "get_validation_dependencies"):
        _wrap_dependencies(cls, ValidationDependencies)


def _wrap_dependencies(cls: type, dependencies_class: type) -> None:
    own = vars(cls)["get_validation_dependencies"]

    def get_validation_dependencies(self, execution_engine=None, runtime_configuration=None, **kwargs):
        if kwargs or not _in_block() or getattr(_local, "planning", False):
            return own(self, execution_engine=execution_engine, runtime_configuration=runtime_configuration,
                       **kwargs)
        key = ("dependencies", type(self), id(execution_engine), _json(self.configuration.kwargs),
               _json(runtime_configuration))

        def build():
            _local.planning = True
            try:
                return own(self, execution_engine=execution_engine, runtime_configuration=runtime_configuration)
            finally:
                _local.planning = False

        planned = _remember(key, execution_engine, runtime_configuration, build)
        return dependencies_class(metric_configurations=dict(planned.metric_configurations),
                                  result_format=copy.deepcopy(planned.result_format))

    get_validation_dependencies.__doc__ = own.__doc__
    cls.get_validation_dependencies = get_validation_dependencies


def without_metric_cache(engine: Any) -> None:
    """Turn off the engine's cache of computed metrics (ids repeat across files: see the module's doc)."""
    if getattr(engine, "_caching", False):
        from great_expectations.execution_engine.execution_engine import NoOpDict

        engine._caching = False
        engine._metric_cache = NoOpDict()


@contextlib.contextmanager
def memoised_configurations() -> Iterator[None]:
    """Inside the block (this thread only), an expectation builds its configuration once."""
    outer = getattr(_local, "memo", None)
    _local.memo = {} if outer is None else outer
    try:
        yield
    finally:
        _local.memo = outer


def reused_batch(runner: Any, lock: Any, template: str, table: str) -> Any:
    """The batch of ``table`` through this thread's one asset of ``template``, pointed at ``table`` now.

    One asset per (thread, template): a thread validates one load table at a time, and a table asset's
    SQL is built from its ``table_name`` when GX asks for the batch. The batch id repeats from file to
    file, so the engine's cache of metric values is turned off (nothing computed from the last file
    may be reused) and the plan memo above keeps GX's plan.
    """
    key = (threading.get_ident(), template)
    with lock:  # the data source's asset list is shared by the threads of this process
        found = runner.definitions.get(key)
        if found is None:
            asset = runner.datasource.add_table_asset(name=f"{template}-{len(runner.definitions) + 1}",
                                                      table_name=table)
            found = runner.definitions[key] = asset.add_batch_definition_whole_table("whole_table")
    # As the asset's validator would store it (pydantic does not validate assignments): a load
    # table's name is plain lower case, never quoted.
    found.data_asset.table_name = quoted_name(table, quote=False)
    batch = found.get_batch()
    without_metric_cache(batch.data.execution_engine)
    return batch


def _not_saved() -> None:
    """The runner's stand-in for GX's save of an ephemeral context's configuration."""


def skip_configuration_saves(context: Any) -> None:
    """No YAML rendering of the ephemeral context's configuration after each data-source change."""
    context._save_project_config = _not_saved
