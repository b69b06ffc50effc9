"""Safe by default: Airflow's UI on this machine only unless LOWINCOME_UI_HOST says otherwise, no log server
while it is, the admin's password written (0600) before Airflow could print one. The services started
for real: tests/scheduler/."""

from __future__ import annotations

import json

import pytest

from lowincome import airflow_env, services
from lowincome.config import Settings


@pytest.fixture
def cfg(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("LOWINCOME_AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.delenv("LOWINCOME_UI_HOST", raising=False)
    for key in ("AIRFLOW__API__HOST", "AIRFLOW__API__PORT", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"):
        monkeypatch.delenv(key, raising=False)
    return Settings(project_root=tmp_path, state_dir=tmp_path / "state", data_dir=tmp_path / "data",
                    external_url="postgresql://u:p@127.0.0.1:5432/w")


def test_the_ui_listens_on_the_loopback_and_starts_no_log_server_by_default(cfg, monkeypatch):
    monkeypatch.setenv("AIRFLOW__API__PORT", "8123")
    env = services.environment(cfg)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__PORT"] == "8123"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8123/execution/"
    assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    assert services.command("scheduler") == ["scheduler", "--skip-serve-logs"]
    assert services.command("triggerer") == ["triggerer", "--skip-serve-logs"]
    assert services.command("celery-worker", worker="w1", concurrency=1) == [
        "celery", "worker", "--celery-hostname", "w1", "--concurrency", "1", "--skip-serve-logs"]


@pytest.mark.parametrize(("host", "execution"), [("0.0.0.0", "http://127.0.0.1:8080/execution/"),
                                                 ("10.20.30.40", "http://10.20.30.40:8080/execution/")])
def test_lowincome_ui_host_opens_the_ui_and_the_log_servers(cfg, monkeypatch, host, execution):
    monkeypatch.setenv("LOWINCOME_UI_HOST", host)
    env = services.environment(cfg)
    assert env["AIRFLOW__API__HOST"] == host
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == execution
    assert services.command("scheduler") == ["scheduler"]      # other machines' UI reads its task logs
    assert "--skip-serve-logs" not in services.command("celery-worker", worker="w1")


def test_the_execution_api_follows_the_port_of_an_earlier_apply(cfg, monkeypatch):
    """lowincome ui --port: prepare() applies the configuration to the process first; the services' tasks
    must still call the execution API on the UI's port (they called localhost:8080 whatever --port said)."""
    monkeypatch.setenv("AIRFLOW__API__PORT", "39773")
    for key, value in airflow_env.airflow_environment(cfg).items():
        monkeypatch.setenv(key, value)
    env = services.environment(cfg)
    assert env["AIRFLOW__API__PORT"] == "39773"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:39773/execution/"


def test_the_admin_password_is_generated_into_a_private_file_and_kept(cfg):
    path = airflow_env.ensure_admin_password(cfg)
    assert path == airflow_env.admin_password_file(cfg)
    password = json.loads(path.read_text())[airflow_env.ADMIN_USER]
    assert len(password) >= 16 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert airflow_env.ensure_admin_password(cfg) == path
    assert json.loads(path.read_text())[airflow_env.ADMIN_USER] == password       # kept, not regenerated


def test_a_celery_worker_records_its_own_name(monkeypatch):
    monkeypatch.setenv(services.WORKER_NAME, "worker-a")
    assert services.worker_hostname() == "worker-a"
    monkeypatch.delenv(services.WORKER_NAME)
    import socket

    assert services.worker_hostname() == socket.getfqdn()
