"""The cosmos configs of the warehouse DAG: the project, its profile, how it renders and runs.

Importing this module does not import cosmos or Airflow; each config imports them when called (so that
``lowincome --help`` and importing ``lowincome.transform`` stay fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lowincome.config import WAREHOUSE_CONN_ID, Settings, settings
from lowincome.speedups import dbt_flags
from lowincome.transform.plan import PLAN_TASK_ID, skip_unless_planned
from lowincome.transform.project import (
    DEFAULT_SCHEMA,
    GLOBAL_FLAGS,
    PROFILE_NAME,
    PROJECT_NAME,
    PUBLICATION_PATHS,
    TEST_COUNTIES_ENV,
    THREADS,
    connection_params,
    own_profiles_path,
    project_dir,
    write_profiles,
)
from lowincome.transform.runs import ensure_manifest

if TYPE_CHECKING:
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig


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
                        exclude=[f"path:{path}" for path in PUBLICATION_PATHS],
                        should_detach_multiple_parents_tests=False,
                        emit_datasets=False, enable_mock_profile=False)


def before_node(context: Any) -> None:
    """``pre_execute`` of every dbt task: skip a node the build's plan leaves out, else make dbt's start
    cheaper in this process (lowincome.transform.plan, lowincome.speedups.dbt_flags)."""
    skip_unless_planned(context)
    dbt_flags.install()


def operator_args() -> dict[str, Any]:
    """Arguments of every cosmos task of the warehouse DAG.

    A node left out of the plan is skipped before dbt starts; its dependants still run when they are
    planned (``none_failed``). The plan's counties bound the tests (``LOWINCOME_TEST_COUNTIES``, rendered
    from the plan's XCom when the task starts; in the environment, not ``--vars``, which would make every
    task re-parse the project). dbt writes no JSON artifacts into the task's scratch project.
    """
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

