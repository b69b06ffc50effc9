"""Where the dbt project lives and how dbt reaches the warehouse: paths, names and the profile.

Plain dbt (CLI, tests) reads a ``profiles.yml`` written into the state folder; every connection value
in it is an ``env_var()`` whose default is the warehouse of the settings that wrote it, so a run started
by :func:`lowincome.transform.runs.run_dbt` always goes to *its* warehouse (it passes the variables)
even when another process rewrote the file meanwhile. Airflow renders and runs the same project through
cosmos (:mod:`lowincome.transform.cosmos_config`), with the profile built from the Airflow connection
``lowincome_warehouse``: the same project runs against the embedded server and an external one.

The lowest module of the package: it imports no other module of ``lowincome.transform``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from lowincome.config import Settings, redact

PROJECT_NAME = "lowincome"
PROFILE_NAME = "lowincome"
# Models without a schema of their own land here (every folder sets one; see dbt_project.yml).
DEFAULT_SCHEMA = "staging"
THREADS = 4
# The marts, and the intermediate models only they read (partial sums, metric values, cells), are built by
# the publishing DAG (lowincome.publish.marts), not by the warehouse build.
MARTS_PATH = "models/marts"
PUBLICATION_INTERMEDIATE_PATH = "models/intermediate/publication"
PUBLICATION_PATHS = (MARTS_PATH, PUBLICATION_INTERMEDIATE_PATH)
# dbt's node selection of everything the publication builds (one --select/--exclude value: dbt splits it)
PUBLICATION_SELECTOR = " ".join(f"path:{path}" for path in PUBLICATION_PATHS)
# The counties whose rows a build's tests read (dbt_project/macros/speedups/test_scope.sql).
TEST_COUNTIES_ENV = "LOWINCOME_TEST_COUNTIES"
# dbt writes manifest.json (twice) and run_results.json into each task's scratch copy of the project,
# which cosmos deletes after the task; nothing reads them. The partial-parse file is still written.
GLOBAL_FLAGS = ("--no-write-json",)
# The password travels in a DBT_ENV_SECRET_ variable: dbt scrubs those from its logs.
PROFILE_ENV = {
    "host": "LOWINCOME_DBT_HOST",
    "port": "LOWINCOME_DBT_PORT",
    "user": "LOWINCOME_DBT_USER",
    "password": "DBT_ENV_SECRET_LOWINCOME_DBT_PASSWORD",
    "dbname": "LOWINCOME_DBT_DBNAME",
    "sslmode": "LOWINCOME_DBT_SSLMODE",
}


# --- paths ------------------------------------------------------------------------------------
def project_dir(cfg: Settings) -> Path:
    return cfg.dbt_project_dir


def manifest_path(cfg: Settings) -> Path:
    """The manifest the DAG renders from (``dbt_project/target`` is git-ignored)."""
    return cfg.dbt_project_dir / "target" / "manifest.json"


def profiles_path(cfg: Settings) -> Path:
    return cfg.state_dir / "dbt" / "profiles.yml"


def own_profiles_path(cfg: Settings) -> Path:
    """A ``profiles.yml`` of this warehouse alone, in a folder named by its URL (without a password):
    cosmos cannot hand dbt the variables that :func:`profiles_path`'s shared file defaults from, so two
    warehouses (parallel test sessions, a moved warehouse) must never share the file it reads."""
    key = hashlib.sha256(redact(cfg.warehouse_url()).encode()).hexdigest()[:16]
    return cfg.state_dir / "dbt" / "profiles" / key / "profiles.yml"


def run_dir(cfg: Settings) -> Path:
    """dbt's target and log folders for CLI/test runs, one per warehouse database, so that runs against
    different databases (parallel test sessions) never share compiled files or run results."""
    return cfg.state_dir / "dbt" / "runs" / connection_params(cfg)["dbname"]


def docs_dir(cfg: Settings) -> Path:
    return cfg.docs_dir / "dbt"


def dbt_executable() -> Path:
    """The ``dbt`` installed next to the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).with_name("dbt")
    if candidate.exists():
        return candidate
    found = shutil.which("dbt")
    return Path(found) if found else candidate


# --- the profile for plain dbt ------------------------------------------------------------------
def connection_params(cfg: Settings) -> dict[str, str]:
    """host, port, user, password, dbname (and sslmode when the URL names one) of the warehouse."""
    parts = urlsplit(cfg.warehouse_url())
    params = {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "dbname": unquote(parts.path.lstrip("/")) or "lowincome",
    }
    sslmode = parse_qs(parts.query).get("sslmode")
    if sslmode:
        params["sslmode"] = sslmode[0]
    return params


def profile_env(cfg: Settings) -> dict[str, str]:
    """The environment variables the written profile reads; pass them to every dbt process."""
    return {PROFILE_ENV[name]: value for name, value in connection_params(cfg).items()}


def _jinja_default(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def profiles_yml(cfg: Settings) -> str:
    params = connection_params(cfg)
    output: dict[str, object] = {"type": "postgres", "schema": DEFAULT_SCHEMA, "threads": THREADS,
                                 "connect_timeout": 10}
    for name, value in params.items():
        expression = f"env_var('{PROFILE_ENV[name]}', {_jinja_default(value)})"
        output[name] = "{{ " + expression + (" | as_number" if name == "port" else "") + " }}"
    profile = {PROFILE_NAME: {"target": "local", "outputs": {"local": output}}}
    header = ("# Written by lowincome (lowincome.transform.write_profiles); never commit it.\n"
              "# Values default to the warehouse in use when it was written; LOWINCOME_DBT_* override.\n")
    return header + yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=1000)


def write_profiles(cfg: Settings, path: Path | None = None) -> Path:
    """Write ``<state>/dbt/profiles.yml`` (or ``path``; mode 600, atomically) and return its path."""
    path = path or profiles_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = profiles_yml(cfg)
    if path.exists() and path.read_text() == text:
        return path
    tmp = path.with_name(f".profiles.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
