"""Airflow's own services (api-server, scheduler, dag-processor, triggerer, Celery workers) as child
processes, each in a process group of its own so that stopping them leaves nothing running.

``lowincome ui`` starts them on the project's warehouse; the scheduler tests start the same ones on a
fresh state. Safe by default: the api-server binds ``LOWINCOME_UI_HOST`` (127.0.0.1 unless set), and
while it does the scheduler, triggerer and workers start no log server (Airflow's binds every
interface and has no setting for the address; on one machine the UI reads the task logs from the log
folder). With the UI opened to other machines they serve their logs on ``[logging]
worker_log_server_port`` (8793) and ``triggerer_log_server_port`` (8794), as Airflow does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from lowincome import airflow_env
from lowincome.config import Settings, sqlalchemy_url
from lowincome.errors import UserError

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
# A Celery worker records this name on the task instances it runs ([core] hostname_callable), so two
# workers on one machine are told apart; on machines of their own each is its host's name.
WORKER_NAME = "LOWINCOME_WORKER_HOSTNAME"


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the Celery workers: the worker's name, else the host's (Airflow's
    default)."""
    return os.environ.get(WORKER_NAME) or socket.getfqdn()


def celery_environment(broker_url: str, metadata_url: str) -> dict[str, str]:
    """The CeleryExecutor's settings: Redis as the broker, the task results in Airflow's metadata database
    (``db+postgresql+psycopg://``). docker-compose.yml's celery profile uses the same."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sqlalchemy_url(metadata_url),
    }


def command(name: str, *, worker: str | None = None, concurrency: int = 2) -> list[str]:
    """The ``airflow`` command line of a service (``celery-worker`` with its name)."""
    quiet_logs = ["--skip-serve-logs"] if airflow_env.ui_is_local() else []
    if name in ("scheduler", "triggerer"):
        return [name, *quiet_logs]
    if name == "celery-worker":
        return ["celery", "worker", "--celery-hostname", str(worker), "--concurrency", str(concurrency),
                *quiet_logs]
    if name in SERVICES:
        return [name]
    raise ValueError(f"unknown Airflow service {name!r}")


@dataclass
class Services:
    """Running Airflow services; a context manager that stops every one of them (SIGTERM to its process
    group, SIGKILL after ``grace`` seconds), also when the block fails."""

    env: dict[str, str]
    log_dir: Path
    grace: float = 30.0
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child writes it until stopped
        try:
            proc = subprocess.Popen([sys.executable, "-m", "airflow", *argv], env={**self.env, **(extra_env or {})},
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        finally:
            log.close()
        self.running[name] = proc
        return proc

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def check(self) -> None:
        """One line naming a service that exited, with the last line of its log."""
        for name, proc in self.running.items():
            if proc.poll() is not None:
                lines = [line for line in self.log(name).read_text(errors="replace").splitlines() if line.strip()]
                raise UserError(f"Airflow's {name} exited ({proc.returncode}): "
                                f"{lines[-1].strip() if lines else 'no output'} (log: {self.log(name)})")

    def wait(self) -> int:
        """Until a service exits (its exit code)."""
        while True:
            for proc in self.running.values():
                if proc.poll() is not None:
                    return proc.returncode
            time.sleep(1)

    def stop(self) -> None:
        for proc in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for proc in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # the group too: a task process or log server a service left behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        self.running.clear()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def environment(cfg: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The services' environment: the project's Airflow configuration (the UI's port is Airflow's
    ``AIRFLOW__API__PORT``, the tasks' execution API follows it), ``airflow`` on the PATH."""
    env = {**os.environ, **airflow_env.airflow_environment(cfg)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **(extra or {})}


def start_airflow(cfg: Settings, log_dir: Path, *, extra_env: dict[str, str] | None = None,
                  workers: tuple[str, ...] = (), concurrency: int = 2) -> Services:
    """api-server, scheduler, dag-processor and triggerer (and the named Celery workers) on ``cfg``'s
    warehouse; the admin's password is in :func:`lowincome.airflow_env.admin_password_file`, never printed."""
    airflow_env.ensure_admin_password(cfg)
    services = Services(environment(cfg, extra_env), log_dir)
    try:
        for name in SERVICES:
            services.start(name, command(name))
        for worker in workers:
            services.start(f"worker-{worker}", command("celery-worker", worker=worker, concurrency=concurrency),
                           {WORKER_NAME: worker,
                            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "lowincome.services.worker_hostname"})
    except BaseException:
        services.stop()
        raise
    return services
