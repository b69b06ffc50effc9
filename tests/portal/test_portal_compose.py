"""docker-compose.yml's portal service, checked statically (no Docker engine on these machines)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_portal_service_runs_the_command_on_the_warehouse():
    portal = COMPOSE["services"]["portal"]
    assert portal["command"][:2] == ["lowincome", "portal"]
    assert portal["command"][portal["command"].index("--port") + 1] == "8090"
    assert portal["ports"] == ["127.0.0.1:8090:8090"]
    assert "8090/health" in " ".join(portal["healthcheck"]["test"])
    assert portal["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert portal["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    env = portal["environment"]
    for key in ("LOWINCOME_WAREHOUSE_URL", "LOWINCOME_HMAC_KEY", "LOWINCOME_DATA_DIR", "LOWINCOME_PORTAL_SECRET"):
        assert key in env, key
    assert env["LOWINCOME_PORTAL_SECRET"].startswith("${LOWINCOME_PORTAL_SECRET:?")
    # the same data folder as the night: a submitted file lands where the ingest DAG reads
    night = COMPOSE["services"]["airflow-scheduler"]
    assert env["LOWINCOME_DATA_DIR"] == night["environment"]["LOWINCOME_DATA_DIR"]
    assert set(portal["volumes"]) == set(night["volumes"])


def test_the_health_route_answers(empty_warehouse):
    from fastapi.testclient import TestClient

    from lowincome.portal.app import create_app
    from lowincome.portal.db import ensure_tables

    ensure_tables(empty_warehouse)
    assert TestClient(create_app(empty_warehouse)).get("/health").text == "ok"
