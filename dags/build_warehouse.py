"""Build the warehouse when new raw data lands: each dbt seed, snapshot and model as its own Airflow task.

Scheduled on the raw-layer Asset (ingestion publishes it), not on a clock. cosmos renders dbt_project/
(without the marts) from the manifest parsed ahead of time (lowincome.transform.ensure_manifest): one
task per node running it and its tests, retried alone when it fails; the register snapshot runs right
after the staged register. On success the readers' grants are re-applied and the warehouse Asset is
published, which schedules publish_monitoring.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from cosmos import DbtTaskGroup

from lowincome.assets import RAW, WAREHOUSE
from lowincome.config import settings
from lowincome.transform import execution_config, profile_config, project_config, render_config

# Execution, measured with dag.test() on the test fixture (2 counties x 4 years, 2 shared cores; one plain
# `dbt build` of it: ~20 s): local, one `dbt build --select <node>` task per node = 68 tasks, 563 s with
# the marts (50 tasks, 198 s without: they are built by publish_monitoring); local, node + tests as two
# tasks = 108 tasks, 694 s; cosmos watcher (one build + a sensor per node) hangs under dag.test(), and
# rewired to run the sensors after the build took 330 s but fails on XCom keys longer than Airflow allows.
# Chosen: local, a task per node with its tests (details: lowincome.transform.project.execution_config).


@dag(
    dag_id="build_warehouse",
    schedule=[RAW],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["warehouse", "dbt", "lowincome"],
)
def build_warehouse():
    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=project_config(settings()),
        profile_config=profile_config(),
        execution_config=execution_config(),
        render_config=render_config(),
        operator_args={"install_deps": False},
    )

    @task(outlets=[WAREHOUSE])
    def grant_readers() -> None:
        from lowincome.config import settings
        from lowincome.warehouse import connect, reapply_grants

        with connect(settings().warehouse_url()) as conn:
            reapply_grants(conn)

    dbt >> grant_readers()


build_warehouse()
