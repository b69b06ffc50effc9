"""Airflow plugin: a listener that records every lowincome DAG run in ``ops.pipeline_runs``."""

from __future__ import annotations

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin


def _ours(dag_run) -> bool:
    dag = getattr(dag_run, "dag", None)
    tags = set(getattr(dag, "tags", None) or [])
    return "lowincome" in tags or str(dag_run.dag_id).startswith(
        ("ingest_county_submissions", "build_warehouse", "publish_monitoring"))


class _RunListener:
    @hookimpl
    def on_dag_run_running(self, dag_run, msg):
        if _ours(dag_run):
            from lowincome.run_ledger import record_run

            record_run(dag_run.dag_id, dag_run.run_id, None)

    @hookimpl
    def on_dag_run_success(self, dag_run, msg):
        if _ours(dag_run):
            from lowincome.run_ledger import record_run

            record_run(dag_run.dag_id, dag_run.run_id, "success")

    @hookimpl
    def on_dag_run_failed(self, dag_run, msg):
        if _ours(dag_run):
            from lowincome.run_ledger import record_run

            record_run(dag_run.dag_id, dag_run.run_id, "failed")


class LowincomePlugin(AirflowPlugin):
    name = "lowincome"
    listeners = [_RunListener()]
