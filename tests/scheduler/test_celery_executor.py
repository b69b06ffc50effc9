"""The nightly chain on the CeleryExecutor, the way an office outgrows one machine: Redis as the broker
(127.0.0.1:6379, a database of its own, emptied first), the task results in PostgreSQL, and two Celery
workers as separate processes with names of their own. The same night runs to the same marts, and the
task instances show that both workers ran tasks."""

from __future__ import annotations

import pytest
import redis
from fixtures.airflow_services import run_night, task_instances
from fixtures.convergence import checksums, differences, mart_rows

from lowincome.services import celery_environment

pytestmark = [pytest.mark.scheduler, pytest.mark.slow]
BROKER = "redis://127.0.0.1:6379/11"     # a Redis database of these tests' own
WORKERS = ("worker-a", "worker-b")


@pytest.fixture
def broker() -> str:
    client = redis.Redis.from_url(BROKER)
    try:
        client.flushdb()
    except redis.ConnectionError as err:
        pytest.fail(f"no Redis on 127.0.0.1:6379 ({err}); .ci/run starts one")
    yield BROKER
    client.flushdb()


def test_a_night_on_two_celery_workers_publishes_the_marts_of_lowincome_run(reference, fresh_state, landing_files,
                                                                           broker):
    with fresh_state.active() as cfg:
        celery = celery_environment(broker, cfg.airflow_metadata_url())
    landing = fresh_state.landing(landing_files)
    with fresh_state.start(extra_env=celery, workers=WORKERS, concurrency=1) as services:
        api = run_night(fresh_state, services, landing)
        ran = task_instances(api)
    hosts = {ti["hostname"] for ti in ran if ti["state"] == "success"}
    assert set(WORKERS) <= hosts, hosts
    assert hosts <= set(WORKERS), hosts          # every task ran on a Celery worker
    got = mart_rows(fresh_state.warehouse_url())
    assert checksums(got) == checksums(reference.marts), differences(reference.marts, got)
