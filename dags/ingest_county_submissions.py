"""Nightly at 02:00 (Asia/Shanghai): ingest every county file waiting in the landing folder.

Publishes the raw-layer Asset when something new was loaded, which schedules ``build_warehouse``.
"""

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from lowincome.assets import RAW


@dag(
    dag_id="ingest_county_submissions",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=2),
                  "retry_exponential_backoff": True},
    tags=["ingest", "raw", "lowincome"],
)
def ingest_county_submissions():
    @task
    def prepare_warehouse() -> None:
        from lowincome.warehouse import ensure_ready

        ensure_ready()

    @task(outlets=[RAW])
    def list_landing_files(params=None, dag_run=None) -> list[str]:
        from lowincome.config import settings
        from lowincome.ingest.landing import landing_files

        conf = (dag_run.conf or {}) if dag_run else {}
        landing = Path(conf.get("landing_dir") or settings().landing_dir)
        return [str(p) for p in landing_files(landing)]

    prepare_warehouse() >> list_landing_files()


ingest_county_submissions()
