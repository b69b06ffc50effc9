"""The real DAGs, run through Airflow's dag.test() against the session's warehouse."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_ingest_dag_runs_green(run_dag, cfg):
    cfg.landing_dir.mkdir(parents=True, exist_ok=True)   # a missing one fails the night (plan_batches)
    run = run_dag("ingest_county_submissions")
    assert str(getattr(run.state, "value", run.state)) == "success"


def test_second_nightly_run_refuses_while_the_warehouse_lock_is_held(cfg):
    from lowincome.errors import UserError
    from lowincome.night_lock import command_lock
    from lowincome.pipeline import run_nightly

    with command_lock(cfg.warehouse_url(), "lowincome run"):
        with pytest.raises(UserError, match="the command lowincome run pid .* holds the warehouse lock"):
            run_nightly(cfg)


def test_each_dag_runs_with_the_heap_frozen_and_the_run_unfreezes_it(airflow_ready, tmp_path, monkeypatch):
    """run_nightly exempts what the process holds from the garbage collector from its start and again
    before each DAG (a full collection walked Airflow's, dbt's and GX's ~1 M objects) and gives the
    process its collector back."""
    import gc

    from airflow.sdk import DAG

    from lowincome import pipeline

    seen = []
    shipped = DAG.test

    def test(dag, *args, **kwargs):
        seen.append((dag.dag_id, gc.get_freeze_count()))
        return shipped(dag, *args, **kwargs)

    shipped_prepare = pipeline.prepare

    def prepare(cfg):
        seen.append(("prepare", gc.get_freeze_count()))
        return shipped_prepare(cfg)

    monkeypatch.setattr(DAG, "test", test)
    monkeypatch.setattr(pipeline, "prepare", prepare)
    gc.unfreeze()
    outcomes = pipeline.run_nightly(airflow_ready, landing=tmp_path, dag_ids=("ingest_county_submissions",))
    assert [o.state for o in outcomes] == ["success"]
    # frozen from the start (a collection walking what the last night left is not this night's)
    assert [step for step, _ in seen] == ["prepare", "ingest_county_submissions"]
    assert all(frozen > 10_000 for _, frozen in seen)
    assert gc.get_freeze_count() == 0
