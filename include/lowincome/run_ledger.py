"""The record of pipeline DAG runs in ``ops.pipeline_runs``, so data quality and timings can be read
beside the data (statisticians do not have Airflow's UI). Written by the Airflow listener plugin."""

from __future__ import annotations

import logging

from lowincome.warehouse import connect

log = logging.getLogger(__name__)


def record_run(dag_id: str, run_id: str, outcome: str | None) -> None:
    """Insert the run when it starts (outcome None), close it when it ends. Never raises:
    bookkeeping must not fail a night."""
    try:
        with connect() as conn:
            if outcome is None:
                conn.execute(
                    "insert into ops.pipeline_runs (dag_id, run_id) select %s, %s where not exists "
                    "(select 1 from ops.pipeline_runs where dag_id = %s and run_id = %s)",
                    (dag_id, run_id, dag_id, run_id),
                )
            else:
                updated = conn.execute(
                    "update ops.pipeline_runs set finished_at = now(), outcome = %s "
                    "where dag_id = %s and run_id = %s",
                    (outcome, dag_id, run_id),
                ).rowcount
                if not updated:
                    conn.execute(
                        "insert into ops.pipeline_runs (dag_id, run_id, finished_at, outcome) "
                        "values (%s, %s, now(), %s)", (dag_id, run_id, outcome))
    except Exception as err:  # noqa: BLE001 - a listener must never break the scheduler
        log.warning("could not record run %s/%s in ops.pipeline_runs: %s", dag_id, run_id, err)
