"""Great Expectations, imported and set up once per process.

* Importing GX turns on ``logging.captureWarnings(True)`` (several GX modules do it at import, some of
  them lazily); we import those modules up front and restore the previous state, so our own warnings
  still reach stderr and pytest.
* Usage statistics are off (``GX_ANALYTICS_ENABLED=false`` before the import, and
  ``analytics_enabled: false`` in expectations/great_expectations.yml): nothing leaves the machine.
* Creating a context is slow (it reads and checks its whole configuration) and a SQLAlchemy engine
  costs a connection handshake, against ~540 files a night: both are cached per process (:func:`runner`, :func:`project_context`).

Two contexts, on purpose:

* the *runner* is an ephemeral context holding the warehouse data source (its URL carries a password,
  so it is never written to a file). Each load table is validated through a table asset of its own,
  added for the validation and removed after it (:meth:`Runner.batch`), GX's documented way; with the
  speed-ups on (:mod:`lowincome.speedups.gx_validation`) one asset per thread and template is pointed at
  each load table in turn instead, so GX's plan is reused from file to file. Nothing the runner does
  touches the repository, so parallel Airflow tasks never race on great_expectations.yml.
* the *project* context is the file context rooted at ``expectations/``: the suites (JSON, reviewed),
  the stored validation results and the Data Docs site (both under ``$LOWINCOME_DATA_DIR``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lowincome import speedups
from lowincome.config import Settings, sqlalchemy_url

DATASOURCE = "warehouse"
LOAD_SCHEMA = "ops"
_lock = threading.Lock()


@cache
def gx() -> Any:
    """The ``great_expectations`` module, imported without hijacking the warnings machinery."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    capturing = logging._warnings_showwarning is not None  # type: ignore[attr-defined]
    import great_expectations
    import great_expectations.core.batch_manager  # noqa: F401  (these call captureWarnings at import)
    import great_expectations.expectations  # noqa: F401
    import great_expectations.validator.metrics_calculator  # noqa: F401
    import great_expectations.validator.validation_graph  # noqa: F401
    import great_expectations.validator.validator  # noqa: F401

    logging.captureWarnings(capturing)
    if speedups.enabled():
        from lowincome.speedups.gx_validation import install

        install(great_expectations)
    # GX logs every metric at INFO; our logs should say what we did, not what GX computed.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return great_expectations


@dataclass
class Runner:
    context: Any
    datasource: Any
    url: str
    definitions: dict[tuple[int, str], Any] = field(default_factory=dict)  # the speed-ups' reused assets

    @contextlib.contextmanager
    def batch(self, template: str, table: str) -> Iterator[Any]:
        """The whole of load table ``table`` as a GX batch, for one validation."""
        if speedups.enabled():
            from lowincome.speedups.gx_validation import reused_batch

            yield reused_batch(self, _lock, template, table)
            return
        with _lock:  # the data source's asset list is shared by the threads of this process
            asset = self.datasource.add_table_asset(name=f"{template}-{table}", table_name=table)
        try:
            yield asset.add_batch_definition_whole_table("whole_table").get_batch()
        finally:
            with _lock:
                self.datasource.delete_asset(asset.name)


_runners: dict[str, Runner] = {}


def runner(cfg: Settings) -> Runner:
    """The process's ephemeral context and warehouse data source (one per warehouse URL)."""
    url = cfg.warehouse_url()
    with _lock:
        found = _runners.get(url)
        if found is not None:
            return found
        ge = gx()
        context = ge.get_context(mode="ephemeral")
        context.variables.progress_bars = {"globally": False}
        if speedups.enabled():
            from lowincome.speedups.gx_validation import skip_configuration_saves

            skip_configuration_saves(context)
        # The schema goes in the connection (search_path), as GX 1.14+ asks instead of the deprecated
        # `schema_name` on table assets. JIT off: these are short scans, and JIT compilation of the
        # wide aggregate GX builds costs more than it saves below a few million rows (measured).
        options = f"-c search_path={LOAD_SCHEMA} -c jit=off"
        datasource = context.data_sources.add_postgres(
            DATASOURCE, connection_string=sqlalchemy_url(url),
            kwargs={"connect_args": {"options": options, "application_name": "lowincome-validation",
                                     "connect_timeout": 10},
                    "pool_pre_ping": True},
        )
        found = _runners[url] = Runner(context=context, datasource=datasource, url=url)
        return found


def project_context(cfg: Settings) -> Any:
    """The file context rooted at ``expectations/`` (suites, stored results, Data Docs)."""
    return _project_context(str(cfg.expectations_dir), str(cfg.data_dir))


@cache
def _project_context(root: str, data_dir: str) -> Any:
    ge = gx()
    return ge.get_context(mode="file", context_root_dir=root, runtime_environment={"lowincome_data_dir": data_dir})
