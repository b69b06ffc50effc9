"""docker-compose.yml, checked statically: there is no Docker engine on these machines.

It must parse, wire the services the README promises with health checks, and pass the same
environment variables the code reads, so that the compose setup and the code cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lowincome.config import HMAC_CONN_ID, WAREHOUSE_CONN_ID

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]


def _pinned(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(f"{package}=="):
            return line.split("==", 1)[1]
    raise AssertionError(f"{package} is not pinned in constraints.txt")


def test_services_present():
    services = COMPOSE["services"]
    assert set(AIRFLOW_SERVICES + ["postgres", "airflow-init"]) <= set(services)
    assert services["postgres"]["image"] == "postgres:16"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES + ["postgres"])
def test_long_running_services_have_health_checks(name):
    assert COMPOSE["services"][name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_wait_for_a_healthy_database_and_init(name):
    depends = COMPOSE["services"][name]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["airflow-init"]["condition"] == "service_completed_successfully"


def test_airflow_image_matches_the_pinned_version():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    version = _pinned("apache-airflow")
    assert f"apache/airflow:{version}-python3.11" in dockerfile
    assert "-c /opt/lowincome/constraints.txt" in dockerfile


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_environment_matches_what_the_code_reads(name):
    env = COMPOSE["services"][name]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"].startswith("${AIRFLOW_EXECUTOR:-LocalExecutor")
    for key in (f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}", f"AIRFLOW_CONN_{HMAC_CONN_ID.upper()}",
                "LOWINCOME_WAREHOUSE_URL", "LOWINCOME_HMAC_KEY", "LOWINCOME_DATA_DIR", "LOWINCOME_HOME"):
        assert key in env, f"{name} lacks {key}"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    assert env["LOWINCOME_WAREHOUSE_URL"].endswith("@postgres:5432/lowincome")
    assert "/opt/lowincome/dags" in " ".join(COMPOSE["services"][name]["volumes"]) or \
        any("./dags:" in v for v in COMPOSE["services"][name]["volumes"])


WORKERS = ["airflow-worker-1", "airflow-worker-2"]


def test_celery_profile_scales_out():
    services = COMPOSE["services"]
    assert services["redis"]["profiles"] == ["celery"]
    for name in WORKERS:
        worker = services[name]
        assert worker["profiles"] == ["celery"] and "celery" in worker["command"]
        assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
        assert worker["healthcheck"]["test"]


def test_celery_profile_has_the_settings_of_the_celery_night(monkeypatch):
    """What tests/scheduler/test_celery_executor.py runs a night with: Redis as the broker, the results in
    the metadata database (lowincome.services.celery_environment), two workers each started as
    lowincome.services starts one, under a name of its own that is also the hostname Airflow records."""
    from lowincome import services as airflow_services

    env = COMPOSE["services"]["airflow-scheduler"]["environment"]
    expected = airflow_services.celery_environment("redis://redis:6379/0", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert env["AIRFLOW__CELERY__BROKER_URL"] == expected["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == expected["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert expected["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    # in containers the api-server reads the workers' logs over the network: they serve them
    monkeypatch.setenv("LOWINCOME_UI_HOST", "0.0.0.0")
    names = []
    for name in WORKERS:
        worker = COMPOSE["services"][name]
        celery_name = worker["command"][worker["command"].index("--celery-hostname") + 1]
        assert worker["command"] == ["airflow", *airflow_services.command("celery-worker", worker=celery_name)]
        assert worker["hostname"] == celery_name
        names.append(celery_name)
    assert len(set(names)) == len(WORKERS)


def test_the_api_server_is_published_on_this_machine_only():
    assert COMPOSE["services"]["airflow-apiserver"]["ports"] == ["127.0.0.1:8080:8080"]


def test_every_variable_is_named_in_env_example_and_no_secret_is_inline():
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))  # $${X} is for the container shell
    example = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert used <= example, f"not in .env.example: {sorted(used - example)}"
    for line in (ROOT / ".env.example").read_text().splitlines():
        if any(word in line for word in ("PASSWORD", "KEY", "SECRET")):
            assert line.endswith("="), f".env.example carries a value: {line}"
    for service in COMPOSE["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "KEY", "SECRET")):
                assert "${" in str(value), f"{key} is set inline"
            for credentials in re.findall(r"://[^/@\s]+:([^@\s]+)@", str(value)):
                assert credentials.startswith("${"), f"{key} carries an inline password"


def test_init_script_creates_the_airflow_database():
    sql = (ROOT / "docker" / "postgres-init" / "01-airflow-database.sql").read_text()
    assert "create database airflow" in sql.lower()
