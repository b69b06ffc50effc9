"""Publish the monitoring marts whenever the warehouse was rebuilt.

Scheduled on the warehouse Asset (build_warehouse publishes it). dbt builds and tests models/marts,
stamped with this run's time (a retry publishes the same publication); grants and the county row
security are re-applied; then the dbt docs, the GX Data Docs and the HTML report are written.
Publishes the marts Asset once the marts are readable again. A run Airflow starts on an event for a
warehouse build already published is a recorded no-op ('unchanged' in ops.publications), never a second
publication of the same marts.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from lowincome.assets import MARTS, WAREHOUSE


@dag(
    dag_id="publish_monitoring",
    schedule=[WAREHOUSE],
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["publish", "marts", "lowincome"],
)
def publish_monitoring():
    @task
    def refresh_marts(dag_run=None) -> int | None:
        from lowincome.config import settings
        from lowincome.publish import plan_publication, refresh_marts

        # skipped (a recorded no-op) when an asset event brings a build that is already published
        build = plan_publication(settings(), dag_run.run_id, on_asset_event=dag_run.run_type == "asset_triggered")
        refresh_marts(settings(), published_at=dag_run.run_after, in_process=True)
        return build

    @task(outlets=[MARTS])
    def secure_marts(build: int | None, dag_run=None) -> None:
        from lowincome.config import settings
        from lowincome.publish import record_publication, refresh_grants

        refresh_grants(settings())
        record_publication(settings(), dag_run.run_id, build)

    @task
    def build_dbt_docs() -> str:
        from lowincome.config import settings
        from lowincome.transform import build_docs

        return str(build_docs(settings()))

    @task
    def build_validation_docs() -> str:
        from lowincome.config import settings
        from lowincome.quality import build_data_docs

        return str(build_data_docs(settings()))

    @task
    def write_report() -> str:
        from lowincome.config import settings
        from lowincome.publish import write_report

        return str(write_report(settings()))

    secure_marts(refresh_marts()) >> [build_dbt_docs(), build_validation_docs(), write_report()]


publish_monitoring()
