"""Where the dbt project lives and how dbt and cosmos reach the warehouse: one place for both.

Plain dbt (CLI, tests) reads a ``profiles.yml`` written into the state folder; every connection value
in it is an ``env_var()`` whose default is the warehouse of the settings that wrote it, so a run started
by :func:`lowincome.transform.runs.run_dbt` always goes to *its* warehouse (it passes the variables)
even when another process rewrote the file meanwhile. Airflow renders and runs the same project through
cosmos, with the profile built from the Airflow connection ``lowincome_warehouse``: the same project
runs against the embedded server and an external one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from lowincome.config import WAREHOUSE_CONN_ID, Settings, redact, settings

if TYPE_CHECKING:
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig

PROJECT_NAME = "lowincome"
PROFILE_NAME = "lowincome"
# Models without a schema of their own land here (every folder sets one; see dbt_project.yml).
DEFAULT_SCHEMA = "staging"
THREADS = 4
# The marts are built by the publishing DAG (lowincome.publish.marts), not by the warehouse build.
MARTS_PATH = "models/marts"
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
    import sys

    candidate = Path(sys.executable).with_name("dbt")
    if candidate.exists():
        return candidate
    import shutil

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


# --- cosmos -----------------------------------------------------------------------------------
def _import_airflow_first() -> None:
    """cosmos imported before airflow fails on a circular import (airflow loads cosmos's plugin)."""
    import airflow  # noqa: F401


def profile_config(cfg: Settings | None = None) -> ProfileConfig:
    """The dbt profile cosmos builds from the Airflow connection of the warehouse.

    A warehouse URL without a password (the server trusts the host, or libpq reads ``~/.pgpass`` or a
    client certificate) has no profile mapping in cosmos: its Postgres mapping requires a password. Then
    cosmos runs dbt with the project's own profile (:func:`write_profiles`, in :func:`own_profiles_path`),
    whose password is empty.
    """
    _import_airflow_first()
    from cosmos import ProfileConfig
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    cfg = cfg or settings()
    if not connection_params(cfg)["password"]:
        return ProfileConfig(profile_name=PROFILE_NAME, target_name="local",
                             profiles_yml_filepath=write_profiles(cfg, own_profiles_path(cfg)))
    return ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name="airflow",
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": DEFAULT_SCHEMA, "threads": THREADS}
        ),
    )


def project_config(cfg: Settings) -> ProjectConfig:
    """The project and the manifest to render from, parsed first if missing or older than the project.

    Checking is a stat of each project file; the parse (seconds) happens once after a change, normally
    in ``lowincome.pipeline.prepare`` before any DAG is parsed, here only as the fallback that keeps a
    fresh checkout or a just-deployed change from rendering a missing or stale graph.
    """
    _import_airflow_first()
    from cosmos import ProjectConfig

    from lowincome.transform.runs import ensure_manifest

    return ProjectConfig(dbt_project_path=project_dir(cfg), manifest_path=ensure_manifest(cfg),
                         project_name=PROJECT_NAME, install_dbt_deps=False)


def render_config() -> RenderConfig:
    """Render from the prebuilt manifest: parsing the DAG file reads one JSON file, runs no dbt.

    One task per seed, snapshot and model, running the node and then its own tests (``dbt build
    --select node``). A test of two relations (a relationship) is left out of the graph and out of its
    parents' tasks (``cautious`` indirect selection: execution_config); the DAG runs those after every
    node, in one dbt invocation (lowincome.transform.plan.run_cross_model_tests), instead of one task
    (one dbt start) per test as cosmos's detached tests would. The marts are built by the
    publishing DAG, not here.
    """
    _import_airflow_first()
    from cosmos import RenderConfig
    from cosmos.constants import LoadMode, TestBehavior

    return RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
                        exclude=[f"path:{MARTS_PATH}"], should_detach_multiple_parents_tests=False,
                        emit_datasets=False, enable_mock_profile=False)


def before_node(context: Any) -> None:
    """``pre_execute`` of every dbt task: skip a node the build's plan leaves out, else make dbt's start
    cheaper in this process (lowincome.transform.plan, lowincome.speedups.dbt_flags)."""
    from lowincome.speedups import dbt_flags
    from lowincome.transform.plan import skip_unless_planned

    skip_unless_planned(context)
    dbt_flags.install()


def operator_args() -> dict[str, Any]:
    """Arguments of every cosmos task of the warehouse DAG.

    A node left out of the plan is skipped before dbt starts; its dependants still run when they are
    planned (``none_failed``). The plan's counties bound the tests (``LOWINCOME_TEST_COUNTIES``, rendered
    from the plan's XCom when the task starts; in the environment, not ``--vars``, which would make every
    task re-parse the project). dbt writes no JSON artifacts into the task's scratch project.
    """
    from lowincome.transform.plan import PLAN_TASK_ID

    return {"install_deps": False, "pre_execute": before_node, "trigger_rule": "none_failed",
            "dbt_cmd_global_flags": list(GLOBAL_FLAGS),
            # a run without a plan (cleared from before plans existed) tests whole relations
            "env": {TEST_COUNTIES_ENV: "{{ (ti.xcom_pull(task_ids='" + PLAN_TASK_ID + "') or {})"
                                       ".get('test_counties', '*') }}"}}


def execution_config(mode: str = "local") -> ExecutionConfig:
    """How cosmos runs dbt: local execution, one ``dbt build`` task per node with its own tests.

    Chosen against one task per node plus one per node's tests (more tasks, slower) and cosmos's
    watcher mode (hangs under ``dag.test()``; rewired, it pushes an XCom per dbt event and fails on a
    test name longer than Airflow's XCom key). The local mode is the robust one, and a failing node's
    task retries alone. Its cost is per node (dbt start-up, partial parse, task bookkeeping), so it is
    cut where it does not depend on the node: a build runs only the nodes with new input
    (lowincome.transform.plan), and each dbt start skips an ``inspect.stack()`` walk and writes no JSON
    artifacts (lowincome.speedups.dbt_flags). Measured: docs/decisions/0008-dbt-through-cosmos.md.
    """
    _import_airflow_first()
    from cosmos import ExecutionConfig
    from cosmos.constants import ExecutionMode, InvocationMode, TestIndirectSelection

    # cautious: a node's task runs the tests of that node only (render_config)
    return ExecutionConfig(execution_mode=ExecutionMode(mode), invocation_mode=InvocationMode.DBT_RUNNER,
                           test_indirect_selection=TestIndirectSelection.CAUTIOUS)

