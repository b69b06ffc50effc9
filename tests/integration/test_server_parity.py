"""``lowincome run`` publishes the same marts on every supported PostgreSQL (issue 22): on the session's
server (in CI's second part, PostgreSQL 15) and on the embedded PostgreSQL 18 a user gets without
configuring anything, the same generated files give the same checksum of every mart.

It runs when LOWINCOME_COMPARE_EMBEDDED is set (``make test-external`` sets it): on the embedded server
itself the comparison would be of a server with itself. Each run is the command a user types, in a
process of its own, with a state, data folder and Airflow database of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from fixtures.convergence import checksums, differences, free_port, mart_rows
from psycopg import sql

from lowincome.config import with_database

pytestmark = pytest.mark.slow


def _env(**values: str) -> dict[str, str]:
    """This machine's environment without the test session's settings (Airflow's and ours), the
    session's HMAC key kept: the same pseudonyms on both servers."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "LOWINCOME_"))}
    return {**inherited, "LOWINCOME_HMAC_KEY": os.environ["LOWINCOME_HMAC_KEY"], **values}


def _lowincome(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "lowincome.cli", *args], env=env, capture_output=True,
                            text=True, timeout=2400)
    assert result.returncode == 0, f"lowincome {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def _night(files: Path, data: Path, env: dict[str, str]) -> tuple[str, dict[str, list[str]]]:
    """``lowincome run`` on a copy of the files; (the server's version, the marts' rows)."""
    shutil.copytree(files, data / "landing")
    _lowincome(env, "db", "start")   # the server up (embedded) or ready (external), as the README starts
    _lowincome(env, "run")
    url = _lowincome(env, "db", "url", "--show-password").strip()
    with psycopg.connect(url) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    return version, mart_rows(url)


def test_lowincome_run_publishes_the_same_marts_as_on_the_embedded_postgresql(cfg, tmp_path):
    if not os.environ.get("LOWINCOME_COMPARE_EMBEDDED"):
        pytest.skip("set LOWINCOME_COMPARE_EMBEDDED=1 (make test-external) to compare with the embedded server")
    from lowincome.generator import generate

    generate(tmp_path / "night", years=[2012, 2013], scale=0.002, seed=7, counties=["330803", "331127"],
             fmt="mixed")
    tag = uuid.uuid4().hex[:8]
    databases = [f"lowincome_parity_{tag}", f"airflow_parity_{tag}"]
    session_env = _env(LOWINCOME_WAREHOUSE_URL=with_database(cfg.warehouse_url(), databases[0]),
                       LOWINCOME_AIRFLOW_DB=databases[1], LOWINCOME_STATE_DIR=str(tmp_path / "session" / "state"),
                       LOWINCOME_DATA_DIR=str(tmp_path / "session" / "data"))
    # the embedded server's state outside pytest's temporary folders: a pytest session started meanwhile
    # makes those private again, and the server runs as another user when we are root
    state = Path(tempfile.mkdtemp(prefix="lowincome-parity-"))
    embedded_env = _env(LOWINCOME_STATE_DIR=str(state), LOWINCOME_DATA_DIR=str(state / "data"),
                        LOWINCOME_PG_PORT=str(free_port()))
    try:
        session_version, session_rows = _night(tmp_path / "night", tmp_path / "session" / "data", session_env)
        embedded_version, embedded_rows = _night(tmp_path / "night", state / "data", embedded_env)
    finally:
        subprocess.run([sys.executable, "-m", "lowincome.cli", "db", "stop"], env=embedded_env, capture_output=True,
                       timeout=300)
        shutil.rmtree(state, ignore_errors=True)
        with psycopg.connect(with_database(cfg.warehouse_url(), "postgres"), autocommit=True) as admin:
            for name in databases:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    assert embedded_version.startswith("18")
    assert len(embedded_rows["marts.target_attainment"]) > 100    # figures worth comparing
    assert checksums(session_rows) == checksums(embedded_rows), (
        f"PostgreSQL {session_version} against {embedded_version}:\n" + differences(embedded_rows, session_rows))
