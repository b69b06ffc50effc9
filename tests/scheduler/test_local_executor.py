"""The nightly chain under Airflow's own scheduler (LocalExecutor): api-server, scheduler, dag-processor and
triggerer as real processes on a fresh state; ingest triggered through the REST API; the asset chain
publishes marts equal, mart by mart, to those of ``lowincome run`` on the same files."""

from __future__ import annotations

import pytest
from fixtures.airflow_services import dag_runs, run_night
from fixtures.convergence import checksums, differences, mart_rows

pytestmark = [pytest.mark.scheduler, pytest.mark.slow]


def test_a_night_under_the_scheduler_publishes_the_marts_of_lowincome_run(reference, fresh_state, landing_files):
    landing = fresh_state.landing(landing_files)
    with fresh_state.start() as services:
        api = run_night(fresh_state, services, landing)
        ingest = [r for r in dag_runs(api, "ingest_county_submissions") if r["run_type"] == "manual"]
        builds = dag_runs(api, "build_warehouse")
    assert [r["state"] for r in ingest] == ["success"]
    assert [(r["run_type"], r["state"]) for r in builds] == [("asset_triggered", "success")]
    got = mart_rows(fresh_state.warehouse_url())
    assert checksums(got) == checksums(reference.marts), differences(reference.marts, got)
