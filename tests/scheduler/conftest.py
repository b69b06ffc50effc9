"""Fixtures of the scheduler tests: a tiny landing, a migrated metadata database to copy, fresh states
and the reference night (``lowincome run`` on its own state). The tools: fixtures/airflow_services.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fixtures.airflow_services import (
    COUNTIES,
    YEAR,
    State,
    create_database,
    drop_database,
    environ,
    lowincome,
    new_state,
    session_airflow_settings,
)
from fixtures.convergence import mart_rows


@pytest.fixture(scope="session")
def landing_files(tmp_path_factory) -> Path:
    """A tiny generated landing: two counties, one year, CSV (a dozen files)."""
    from lowincome.generator import generate

    out = tmp_path_factory.mktemp("scheduler-landing")
    generate(out, years=[YEAR], scale=0.002, seed=11, counties=list(COUNTIES), fmt="csv")
    return out


@pytest.fixture(scope="session")
def migrated_metadata(cfg, tmp_path_factory) -> Iterator[str]:
    """An Airflow metadata database migrated once; each test's is a copy of it (``template``)."""
    from lowincome import airflow_env
    from lowincome.config import settings

    base = cfg.warehouse_url()
    name = f"airflow_tpl_{uuid.uuid4().hex[:8]}"
    create_database(base, name)
    env = {"LOWINCOME_AIRFLOW_DB": name, "LOWINCOME_AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow-tpl")),
           **dict.fromkeys(session_airflow_settings())}
    try:
        with environ(env):
            airflow_env.migrate_metadata(settings())
        yield name
    finally:
        drop_database(base, name)


@pytest.fixture
def fresh_state(cfg, migrated_metadata, tmp_path) -> Iterator[State]:
    with new_state(cfg.warehouse_url(), migrated_metadata, tmp_path) as state:
        yield state


@dataclass
class Reference:
    """``lowincome run`` on the tiny landing, on a state of its own (kept for the session)."""

    state: State
    marts: dict[str, list[str]]
    output: str


@pytest.fixture(scope="session")
def reference(cfg, migrated_metadata, landing_files, tmp_path_factory) -> Iterator[Reference]:
    root = tmp_path_factory.mktemp("reference-night")
    with new_state(cfg.warehouse_url(), migrated_metadata, root) as state:
        done = lowincome(state, "run", "--landing", str(state.landing(landing_files)))
        assert done.returncode == 0, done.stdout + done.stderr
        yield Reference(state, mart_rows(state.warehouse_url()), done.stdout)
