"""Publish the monitoring marts whenever the warehouse was rebuilt.

Scheduled on the warehouse Asset (build_warehouse publishes it). dbt builds and tests models/marts,
stamped with this run's time (a retry publishes the same publication); grants and the county row
security are re-applied; then the dbt docs, the GX Data Docs and the HTML report are written.
Publishes the marts Asset once the marts are readable again.
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
    def refresh_marts(dag_run=None) -> None:
        from lowincome.config import settings
        from lowincome.publish import refresh_marts

        refresh_marts(settings(), published_at=dag_run.run_after, in_process=True)

    @task(outlets=[MARTS])
    def secure_marts() -> None:
        from lowincome.config import settings
        from lowincome.publish import refresh_grants

        refresh_grants(settings())

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

    refresh_marts() >> secure_marts() >> [build_dbt_docs(), build_validation_docs(), write_report()]


publish_monitoring()
