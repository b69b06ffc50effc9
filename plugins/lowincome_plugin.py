"""Airflow plugin: a listener that records every lowincome DAG run in ``ops.pipeline_runs``, and the
published pages (HTML report, validation Data Docs, dbt docs) in Airflow's UI: served by the api-server
under ``/lowincome`` to signed-in users (lowincome.pages), linked from the Browse menu."""

from __future__ import annotations

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

from lowincome.pages import URL_PREFIX, external_views, pages_app


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
    fastapi_apps = [{"app": pages_app(), "url_prefix": URL_PREFIX, "name": "lowincome pages"}]
    external_views = external_views()
