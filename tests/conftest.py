"""Every test talks to a real PostgreSQL: the embedded server by default, or LOWINCOME_WAREHOUSE_URL.

Each pytest session works in databases of its own on that server (warehouse + Airflow metadata),
dropped at the end, so runs never see each other's data and a developer's demo data is untouched.
The environment is set here, before anything imports Airflow, because Airflow reads it at import.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PROJECT = Path(__file__).resolve().parents[1]
_SESSION: dict[str, str] = {}


def _base_url() -> str:
    from lowincome.config import Settings, normalise_url

    explicit = os.environ.get("LOWINCOME_WAREHOUSE_URL")
    if explicit:
        return normalise_url(explicit)
    from lowincome.embedded import EmbeddedServer

    cfg = Settings.from_env()
    EmbeddedServer(cfg).start()
    return cfg.warehouse_url()


def create_database(base_url: str, name: str) -> str:
    from lowincome.config import with_database

    with psycopg.connect(with_database(base_url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return with_database(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    from lowincome.config import with_database

    with contextlib.suppress(psycopg.Error), psycopg.connect(
        with_database(base_url, "postgres"), autocommit=True
    ) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def pytest_configure(config: pytest.Config) -> None:
    if _SESSION or hasattr(config, "workerinput"):
        return
    tag = uuid.uuid4().hex[:8]
    _SESSION["server"] = "external" if os.environ.get("LOWINCOME_WAREHOUSE_URL") else "embedded"
    base = _base_url()
    tmp = Path(tempfile.mkdtemp(prefix=f"lowincome-test-{tag}-"))
    _SESSION.update(base=base, tag=tag, tmp=str(tmp), db=f"lowincome_test_{tag}", airflow_db=f"airflow_test_{tag}")
    url = create_database(base, _SESSION["db"])
    create_database(base, _SESSION["airflow_db"])
    os.environ.update(
        LOWINCOME_WAREHOUSE_URL=url,
        LOWINCOME_AIRFLOW_DB=_SESSION["airflow_db"],
        LOWINCOME_DATA_DIR=str(tmp / "data"),
        LOWINCOME_AIRFLOW_HOME=str(tmp / "airflow"),
        LOWINCOME_HMAC_KEY="test-key-not-a-secret",
    )
    from lowincome import airflow_env
    from lowincome.config import settings

    airflow_env.apply(settings())


def pytest_report_header(config: pytest.Config) -> str | None:
    """The server this session runs on, in pytest's header (CI runs the suite on two)."""
    if "base" not in _SESSION:
        return None
    from lowincome.config import redact, with_database

    with psycopg.connect(with_database(_SESSION["base"], "postgres")) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    return f"warehouse: PostgreSQL {version} ({_SESSION['server']}) at {redact(_SESSION['base'])}"


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _SESSION or os.environ.get("LOWINCOME_KEEP_TEST_DB"):
        return
    import sys

    if "airflow.settings" in sys.modules:
        # Close Airflow's pooled connections before their database goes.
        sys.modules["airflow.settings"].dispose_orm()
    drop_database(_SESSION["base"], _SESSION["db"])
    drop_database(_SESSION["base"], _SESSION["airflow_db"])
    shutil.rmtree(_SESSION["tmp"], ignore_errors=True)


@pytest.fixture(scope="session")
def cfg():
    """Settings of the session's warehouse, bootstrapped (schemas, roles, ledger, raw tables)."""
    from lowincome.config import settings
    from lowincome.warehouse import ensure_ready

    return ensure_ready(settings())


@pytest.fixture
def conn(cfg) -> Iterator[psycopg.Connection]:
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as connection:
        yield connection


@pytest.fixture
def empty_warehouse(request, monkeypatch, tmp_path):
    """A brand-new, bootstrapped warehouse database and data folder for one test; dropped after.

    At the end the accounting invariant must hold (:func:`lowincome.accounting.violations`): every row of
    every file the test had ingested is in raw or in ops.rejected_rows, every file in the ledger and the
    archive. A test that leaves an unfinished state on purpose says why with
    ``@pytest.mark.accounting_unchecked("why")``. A test that never received a file (no archive folder:
    the ledger was seeded by hand, or nothing was ingested) has nothing to check.
    """
    from lowincome import airflow_env
    from lowincome.config import WAREHOUSE_CONN_ID, settings
    from lowincome.warehouse import ensure_ready

    name = f"lowincome_t_{uuid.uuid4().hex[:10]}"
    url = create_database(_SESSION["base"], name)
    monkeypatch.setenv("LOWINCOME_WAREHOUSE_URL", url)
    monkeypatch.setenv("LOWINCOME_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}", url)
    try:
        cfg = ensure_ready(settings())
        for key, value in airflow_env.airflow_environment(cfg).items():
            if not key.startswith("AIRFLOW__DATABASE"):
                monkeypatch.setenv(key, value)
        yield cfg
        if request.node.get_closest_marker("accounting_unchecked") is None and cfg.archive_dir.exists():
            from lowincome.accounting import violations

            with psycopg.connect(url, autocommit=True) as check:
                problems = violations(check, cfg)
            assert problems == [], "accounting invariant broken at the end of the test:\n" + "\n".join(problems)
    finally:
        drop_database(_SESSION["base"], name)


@pytest.fixture(scope="session")
def airflow_ready(cfg):
    """Airflow's metadata database migrated (once per session)."""
    from lowincome import airflow_env

    airflow_env.migrate_metadata(cfg)
    return cfg


@pytest.fixture
def run_dag(airflow_ready):
    """Run a real DAG from dags/ through ``dag.test()``; returns the DagRun."""
    from lowincome.pipeline import load_dags

    def _run(dag_id: str, conf: dict | None = None):
        from lowincome.config import settings

        dags = load_dags(settings())
        return dags[dag_id].test(run_conf=conf or {})

    return _run
