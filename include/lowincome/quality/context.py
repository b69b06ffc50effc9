"""Great Expectations, imported and set up once per process.

* Importing GX turns on ``logging.captureWarnings(True)`` (several GX modules do it at import, some of
  them lazily); we import those modules up front and restore the previous state, so our own warnings
  still reach stderr and pytest.
* Usage statistics are off (``GX_ANALYTICS_ENABLED=false`` before the import, and
  ``analytics_enabled: false`` in expectations/great_expectations.yml): nothing leaves the machine.
* Creating a context costs ~0.1-0.5 s and a SQLAlchemy engine a connection handshake, against ~540
  files a night: both are cached per process (:func:`runner`, :func:`project_context`).

Two contexts, on purpose:

* the *runner* is an ephemeral context holding the warehouse data source (its URL carries a password,
  so it is never written to a file) and, per thread, one table asset per template, pointed at each load
  table of that template in turn (:meth:`Runner.batch_definition`: the batch id repeats from file to
  file, which lets :mod:`lowincome.quality.memo` reuse GX's plan, and no asset is added or removed per
  file). Nothing it does touches the repository, so parallel Airflow tasks never race on
  great_expectations.yml. GX "saves" an ephemeral context's configuration after every change to a data
  source by rendering all of it to YAML into an in-memory store that nothing reads (three times a file
  when an asset was added and removed per file): that save is skipped.
* the *project* context is the file context rooted at ``expectations/``: the suites (JSON, reviewed),
  the stored validation results and the Data Docs site (both under ``$LOWINCOME_DATA_DIR``).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import quoted_name

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
    from lowincome.quality.memo import install

    install(great_expectations)
    # GX logs every metric at INFO; our logs should say what we did, not what GX computed.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return great_expectations


@dataclass
class Runner:
    context: Any
    datasource: Any
    url: str
    definitions: dict[tuple[int, str], Any] = field(default_factory=dict)

    def batch_definition(self, template: str, table: str) -> Any:
        """This thread's whole-table batch definition of ``template``, its asset now reading ``table``.

        One asset per (thread, template): a thread validates one load table at a time, and a table
        asset's SQL is built from its ``table_name`` when GX asks for the batch.
        """
        key = (threading.get_ident(), template)
        with _lock:  # the data source's asset list is shared by the threads of this process
            found = self.definitions.get(key)
            if found is None:
                asset = self.datasource.add_table_asset(name=f"{template}-{len(self.definitions) + 1}",
                                                        table_name=table)
                found = self.definitions[key] = asset.add_batch_definition_whole_table("whole_table")
        # As the asset's validator would store it (pydantic does not validate assignments): a load
        # table's name is plain lower case, never quoted.
        found.data_asset.table_name = quoted_name(table, quote=False)
        return found


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
        context._save_project_config = _not_saved  # see the module's doc: an in-memory copy nobody reads
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


def _not_saved() -> None:
    """The runner's stand-in for GX's save of an ephemeral context's configuration."""


def project_context(cfg: Settings) -> Any:
    """The file context rooted at ``expectations/`` (suites, stored results, Data Docs)."""
    return _project_context(str(cfg.expectations_dir), str(cfg.data_dir))


@cache
def _project_context(root: str, data_dir: str) -> Any:
    ge = gx()
    return ge.get_context(mode="file", context_root_dir=root, runtime_environment={"lowincome_data_dir": data_dir})
