"""One night publishes the same marts on every supported PostgreSQL (issue 22): the session's server (in
CI's second part, PostgreSQL 15) against a fresh embedded PostgreSQL 18, checksum of every mart.

It runs when LOWINCOME_COMPARE_EMBEDDED is set (``make test-external`` sets it): on the embedded server
itself the comparison would be of a server with itself.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psycopg
import pytest
from fixtures.convergence import Lab, checksums, differences, free_port, mart_rows, night, second_server

pytestmark = pytest.mark.slow


def _version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("show server_version").fetchone()[0]


def test_one_night_publishes_the_same_marts_as_on_the_embedded_postgresql(cfg, tmp_path, monkeypatch):
    if not os.environ.get("LOWINCOME_COMPARE_EMBEDDED"):
        pytest.skip("set LOWINCOME_COMPARE_EMBEDDED=1 (make test-external) to compare with the embedded server")
    from lowincome.generator import generate

    generate(tmp_path / "night", years=[2012, 2013], scale=0.002, seed=7, counties=["330803", "331127"],
             fmt="mixed")
    monkeypatch.setenv("LOWINCOME_PG_PORT", str(free_port()))
    rows, versions = {}, {}
    # the server's state outside pytest's temporary folders: a pytest session started meanwhile (another
    # suite on this machine) makes them private again, and the server runs as another user when we are root
    with tempfile.TemporaryDirectory(prefix="lowincome-parity-") as state, \
            second_server(Path(state), cfg.project_root) as (embedded, _server):
        for name, base in (("session", cfg.warehouse_url()), ("embedded", embedded.warehouse_url())):
            lab = Lab(base_url=base, state_dir=tmp_path / name / "state", scratch=tmp_path / name,
                      project_root=cfg.project_root)
            try:
                warehouse = lab.fresh(name)
                night(warehouse, tmp_path / "night")
                rows[name], versions[name] = mart_rows(warehouse.warehouse_url()), _version(warehouse.warehouse_url())
            finally:
                lab.drop_all()
    assert versions["embedded"].startswith("18")
    assert len(rows["embedded"]["marts.target_attainment"]) > 100    # figures worth comparing
    assert checksums(rows["session"]) == checksums(rows["embedded"]), (
        f"PostgreSQL {versions['session']} against {versions['embedded']}:\n"
        + differences(rows["embedded"], rows["session"]))
