"""Airflow's configuration for this project, entirely through environment variables.

``AIRFLOW_HOME`` is inside the state folder, metadata lives in its own database on the warehouse
server, and the warehouse and HMAC key reach tasks as Airflow connections (``AIRFLOW_CONN_…``),
never from code or committed files. Must run before ``airflow`` is imported.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from lowincome.config import (
    HMAC_CONN_ID,
    WAREHOUSE_CONN_ID,
    Settings,
    private_file,
    private_state_folder,
    redact,
    sqlalchemy_url,
)
from lowincome.errors import UserError

PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"

# Where Airflow's UI (the api-server) listens unless LOWINCOME_UI_HOST says otherwise: this machine only.
DEFAULT_UI_HOST = "127.0.0.1"
DEFAULT_UI_PORT = 8080
_EVERY_INTERFACE = ("0.0.0.0", "::", "")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ADMIN_USER = "admin"   # [core] simple_auth_manager_users' default, admin:admin (user admin, role admin)


def ui_host() -> str:
    """The address the api-server binds: ``LOWINCOME_UI_HOST`` (``0.0.0.0`` for every interface), else
    127.0.0.1."""
    return os.environ.get("LOWINCOME_UI_HOST", "").strip() or DEFAULT_UI_HOST


def ui_is_local() -> bool:
    return ui_host() in LOOPBACK


def execution_api_url(host: str, port: int | str) -> str:
    """The api-server's execution API, which every task process calls: on this machine through the
    loopback when the server listens there or on every interface, else at the address it binds."""
    reach = "127.0.0.1" if host in _EVERY_INTERFACE or host in LOOPBACK else host
    if ":" in reach:
        reach = f"[{reach}]"
    return f"http://{reach}:{port}/execution/"


def airflow_environment(cfg: Settings) -> dict[str, str]:
    home = cfg.airflow_home
    secrets = cfg.local_secrets
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(cfg.dags_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(cfg.project_root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # 2 cores: two task processes at a time keep the machine responsive.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        # Safe by default: the UI on this machine only (LOWINCOME_UI_HOST opens it); tasks reach its
        # execution API at the same address.
        "AIRFLOW__API__HOST": ui_host(),
        "AIRFLOW__API__PORT": str(DEFAULT_UI_PORT),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": execution_api_url(
            ui_host(), os.environ.get("AIRFLOW__API__PORT", DEFAULT_UI_PORT)),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(cfg.airflow_metadata_url()),
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__CORE__FERNET_KEY": os.environ.get("AIRFLOW__CORE__FERNET_KEY", ""),
        "AIRFLOW__API_AUTH__JWT_SECRET": os.environ.get("AIRFLOW__API_AUTH__JWT_SECRET",
                                                        secrets["LOWINCOME_ROLE_PASSWORD"]),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # where Airflow's simple auth manager keeps the generated admin password (apply() creates it 0600)
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__SCHEDULER__CATCHUP_BY_DEFAULT": "False",
        # No telemetry: cosmos would otherwise try an outside host on every task.
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": cfg.warehouse_url(),
        f"AIRFLOW_CONN_{HMAC_CONN_ID.upper()}": json.dumps(
            {"conn_type": "generic", "password": cfg.hmac_key()}
        ),
        "LOWINCOME_DATA_DIR": str(cfg.data_dir),
        "LOWINCOME_STATE_DIR": str(cfg.state_dir),
        "LOWINCOME_HOME": str(cfg.project_root),
    }
    # Keep whatever the operator set explicitly.
    return {k: os.environ.get(k, v) if k.startswith("AIRFLOW__") and k in os.environ else v
            for k, v in env.items()}


def apply(cfg: Settings) -> dict[str, str]:
    env = airflow_environment(cfg)
    os.environ.update(env)
    home = Path(env["AIRFLOW_HOME"])
    # owner only: the UI's password file and the task logs are in it, and nothing else needs to pass
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    home.chmod(0o700)
    # Airflow opens the password file with "a+" and writes the password into it: created 0600 here first,
    # it is never readable by others (Airflow would create it 0644)
    private_file(Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]))
    return env


def admin_password_file(cfg: Settings) -> Path:
    """Where the simple auth manager keeps the UI users' passwords (``[core]
    simple_auth_manager_passwords_file``, in the Airflow home)."""
    return cfg.airflow_home / PASSWORDS_FILE


def ensure_admin_password(cfg: Settings) -> Path:
    """The admin's password generated here, into the auth manager's own password file (0600), before any
    Airflow process starts: the auth manager prints a password only for a user it has to generate one for
    (an empty file included), so none is ever printed."""
    path = admin_password_file(cfg)
    text = path.read_text().strip() if path.exists() else ""
    passwords = json.loads(text) if text else {}
    if ADMIN_USER not in passwords:
        passwords[ADMIN_USER] = secrets.token_urlsafe(16)
        private_state_folder(path.parent)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(fd, "w") as handle:
            handle.write(json.dumps(passwords) + "\n")
        tmp.replace(path)
    return path


def migrate_metadata(cfg: Settings) -> None:
    """``airflow db migrate`` in a child process (it configures logging and ORM globally)."""
    env = {**os.environ, **airflow_environment(cfg)}
    marker = cfg.airflow_home / ".migrated"
    stamp = f"{redact(env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'])}|{_airflow_version()}"  # no password on disk
    if marker.exists() and marker.read_text() == stamp and not os.environ.get("LOWINCOME_FORCE_MIGRATE"):
        return
    result = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()][-1:]
        raise UserError(f"airflow db migrate failed: {tail[0] if tail else 'no output'}")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(stamp)


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow-core")
