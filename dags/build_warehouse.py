"""Build the warehouse when new raw data lands: each dbt seed, snapshot and model as its own Airflow task.

Scheduled on the raw-layer Asset (ingestion publishes it), not on a clock. cosmos renders dbt_project/
(without the marts) from the manifest parsed ahead of time (lowincome.transform.ensure_manifest): one
task per node running it and its own tests, retried alone when it fails. ``plan_build`` first decides
which nodes have anything new upstream since the last finished build (lowincome.transform.plan); a
branch (``skip_unplanned``) upstream of every node's task marks the others skipped, so they are never
started. A plan of a few nodes (one county's correction) is built by one dbt run (``build_together``)
instead of their tasks. The planned tests of two relations (relationships) run after every node, in one
dbt run. ``{"scope": "all"}`` runs every node. On success the build is recorded, grants re-applied, the
warehouse Asset published, unless the plan had nothing to build (a recorded no-op build).
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task
from cosmos import DbtTaskGroup

import lowincome.transform.plan as planning
from lowincome.assets import RAW, WAREHOUSE
from lowincome.config import settings
from lowincome.transform import execution_config, operator_args, profile_config, project_config, render_config

# Why a task per node, and what it costs: lowincome.transform.cosmos_config.execution_config.

@dag(
    dag_id="build_warehouse",
    schedule=[RAW],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["warehouse", "dbt", "lowincome"],
    params={"scope": Param("changes", enum=list(planning.SCOPES),
                           description="changes: the nodes downstream of what changed since the last "
                                       "finished build; all: every node")},
)
def build_warehouse():
    @task(task_id=planning.PLAN_TASK_ID)
    def plan_build(params=None, run_id=None) -> dict:
        scope = (params or {}).get("scope", "changes")
        return planning.plan_build(settings(), scope=scope, run_id=run_id).to_xcom()

    # upstream of every node's task: those the plan leaves out are marked skipped, never run (planned_tasks)
    @task.branch(task_id=planning.BRANCH_TASK_ID)
    def skip_unplanned(made: dict, task=None) -> list[str]:
        return planning.planned_tasks(planning.BuildPlan.from_xcom(made), task.downstream_list)

    @task(task_id=planning.TOGETHER_TASK_ID)
    def build_together(made: dict) -> None:
        planning.build_together(settings(), planning.BuildPlan.from_xcom(made), in_process=True)

    made = plan_build()
    chosen = skip_unplanned(made)
    together = build_together(made)
    dbt = DbtTaskGroup(group_id="dbt", project_config=project_config(settings()), profile_config=profile_config(),
                       execution_config=execution_config(), render_config=render_config(), operator_args=operator_args())

    @task(trigger_rule="none_failed")
    def cross_model_tests(made: dict) -> None:
        planning.run_cross_model_tests(settings(), planning.BuildPlan.from_xcom(made), in_process=True)

    @task(trigger_rule="none_failed")
    def record_build(made: dict) -> None:
        planning.record_build(settings(), planning.BuildPlan.from_xcom(made))

    @task(outlets=[WAREHOUSE])
    def grant_readers(made: dict) -> None:
        from lowincome.warehouse import connect, reapply_grants

        with connect(settings().warehouse_url()) as conn:
            reapply_grants(conn)
        planning.announce(planning.BuildPlan.from_xcom(made))  # no warehouse event when nothing was built

    chosen >> [*dbt.children.values(), together]
    [dbt, together] >> cross_model_tests(made) >> record_build(made) >> grant_readers(made)


build_warehouse()
