"""Nightly at 02:00 (Asia/Shanghai): ingest every county file waiting in the landing folder.

parse -> validate -> load, mapped per county, in two waves (registers first, then the files checked against
them); the raw-layer Asset (which schedules ``build_warehouse``) only when something new was loaded. Under
the warehouse lock (lowincome.night_lock): `lowincome run` holds it (conf), else plan_batches/release_lock.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task, task_group

from lowincome.assets import RAW


@dag(
    dag_id="ingest_county_submissions",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1),
                  "retry_exponential_backoff": True, "max_retry_delay": timedelta(minutes=20)},
    tags=["ingest", "raw", "lowincome"],
)
def ingest_county_submissions():
    from lowincome.ingest import pipeline

    @task
    def plan_batches(dag_run=None) -> list[dict]:
        return pipeline.plan_batches(dag_run.run_id, **pipeline.night_conf(dag_run.conf))

    # Mapped per COUNTY, not per file: ~450 task instances a night, not ~1,600 (benchmarks/ measures both);
    # a county's files share one connection and one GX context.
    @task(map_index_template="{{ county }}")
    def parse_county(batch: dict):  # no `-> dict`: TaskFlow would split a dict into one XCom per key
        return pipeline.parse_batch(batch)

    @task(trigger_rule="all_done")   # one county's failure must not hold up the others (check_counties says)
    def first_wave(batches: list[dict], parsed: list[dict]) -> list[dict]:
        return pipeline.split_waves(batches, parsed)["registers"]

    @task(trigger_rule="all_done")   # after every county's registers: the barrier between the waves
    def second_wave(batches: list[dict], parsed: list[dict], registers: list[dict]) -> list[dict]:
        return pipeline.split_waves(batches, parsed)["dependents"]

    @task_group
    def wave(batch: dict):
        @task(map_index_template="{{ county }}")
        def validate_county(parsed: dict):
            return pipeline.validate_batch(parsed)

        @task(map_index_template="{{ county }}")
        def load_county(validated: dict):
            return pipeline.load_batch(validated)

        return load_county(validate_county(batch))

    @task(outlets=[RAW], trigger_rule="all_done")
    def publish_raw(registers: list[dict], dependents: list[dict], outlet_events=None):
        return pipeline.publish_summary(outlet_events[RAW], registers, dependents)

    @task
    def release_lock(dag_run=None) -> bool:  # a teardown: runs whatever failed, never decides the run's state
        return pipeline.release_lock(dag_run.run_id)

    @task(trigger_rule="all_done")
    def check_counties(batches: list[dict], parsed: list[dict], registers: list, dependents: list) -> None:
        pipeline.check_batches(pipeline.split_waves(batches, parsed), registers, dependents)

    batches = plan_batches()
    parsed = parse_county.expand(batch=batches)
    registers = wave.override(group_id="registers").expand(batch=first_wave(batches, parsed))
    dependents = wave.override(group_id="dependents").expand(batch=second_wave(batches, parsed, registers))
    publish_raw(registers, dependents) >> check_counties(batches, parsed, registers, dependents) \
        >> release_lock().as_teardown()


ingest_county_submissions()
