"""``lowincome run``: the nightly pipeline, once, through Airflow's own ``dag.test()``.

The DAGs are chained by Assets in production (ingest -> warehouse -> publish). ``dag.test()`` runs
one DAG and does not trigger its consumers, so this runs them in that order, the same DAG objects
the scheduler would run, each in its own Airflow DAG run recorded in the metadata database.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lowincome import airflow_env, heap
from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.night_lock import command_lock
from lowincome.transform import ensure_manifest
from lowincome.warehouse import ensure_ready

NIGHTLY_DAGS = ("ingest_county_submissions", "build_warehouse", "publish_monitoring")


@dataclass
class DagOutcome:
    dag_id: str
    state: str
    seconds: float
    run_id: str


def prepare(cfg: Settings) -> None:
    """Warehouse up and bootstrapped, Airflow configured and its metadata migrated."""
    ensure_ready(cfg)
    airflow_env.apply(cfg)
    airflow_env.migrate_metadata(cfg)
    # The warehouse DAG renders from this manifest; building it here keeps DAG parsing cheap.
    ensure_manifest(cfg)


def load_dags(cfg: Settings) -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(cfg.dags_dir))
    if bag.import_errors:
        path, err = next(iter(bag.import_errors.items()))
        raise UserError(f"DAG file {Path(path).name} does not import: {str(err).strip().splitlines()[-1]}")
    return bag.dags


@contextlib.contextmanager
def _output_to(logfile: Path | None) -> Iterator[None]:
    """Airflow logs every task at length; the CLI sends that to a file and prints a summary."""
    if logfile is None:
        yield
        return
    logfile.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(logfile, "ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def missing_landing(folder: Path) -> str | None:
    """Why a night cannot read ``folder``, in one line; None when it is a folder. A missing landing folder is
    a wrong LOWINCOME_DATA_DIR or an unmounted share, never a night with nothing to do."""
    if folder.is_dir():
        return None
    what = "is not a folder" if folder.exists() else "does not exist"
    return (f"landing folder {folder} {what} (LOWINCOME_DATA_DIR={os.environ.get('LOWINCOME_DATA_DIR', '(unset)')}); "
            "create it or point LOWINCOME_DATA_DIR at the data folder")


def run_nightly(cfg: Settings, landing: Path | None = None, logfile: Path | None = None,
                dag_ids: tuple[str, ...] = NIGHTLY_DAGS, listener: object | None = None) -> list[DagOutcome]:
    """The night's DAGs in order. ``listener``: an Airflow task-instance listener (``@hookimpl`` methods,
    :mod:`lowincome.progress`) registered for the run with Airflow's listener manager; ``dag.test()`` runs
    the tasks in this process, so it hears every task as it finishes."""
    with heap.frozen():   # and again before each DAG (_run_in_order)
        with _output_to(logfile):   # importing Airflow, dbt and cosmos logs warnings: to the log file too
            prepare(cfg)
        conf = {"landing_dir": str(landing.resolve())} if landing else {}
        # The lock lives in the warehouse, so a second run on another host sees it too; the ingest DAG's
        # tasks check that this night still holds it (night_lock.confirm) before they touch a file.
        with command_lock(cfg.warehouse_url(), "lowincome run") as holder:
            why = missing_landing(landing or cfg.landing_dir) if "ingest_county_submissions" in dag_ids else None
            if why:
                raise UserError(why)
            outcomes = _run_in_order(cfg, {**conf, "lock_holder": holder}, logfile, dag_ids, listener)
    failed = [o for o in outcomes if o.state != "success"]
    if failed:
        where = f"; task logs: {logfile}" if logfile else ""
        raise UserError(f"DAG {failed[0].dag_id} ended {failed[0].state} (run {failed[0].run_id}){where}")
    return outcomes


@contextlib.contextmanager
def listening(listener: object | None) -> Iterator[None]:
    """``listener`` registered with the Task SDK's listener manager (Airflow's public listener interface,
    the one plugins' ``listeners`` join) for the duration."""
    if listener is None:
        yield
        return
    from airflow.sdk.listener import get_listener_manager

    manager = get_listener_manager()
    manager.add_listener(listener)
    try:
        yield
    finally:
        manager.pm.unregister(listener)


def _run_in_order(cfg: Settings, conf: dict, logfile: Path | None, dag_ids: tuple[str, ...],
                  listener: object | None = None) -> list[DagOutcome]:
    """Each DAG's ``dag.test()`` in turn, what the process holds before each frozen (:mod:`lowincome.heap`:
    the DAGs before it imported dbt and GX)."""
    outcomes: list[DagOutcome] = []
    # the listener manager loads Airflow's plugins (cosmos's among them), which log: inside the redirection
    with _output_to(logfile), listening(listener):
        dags = load_dags(cfg)
        for dag_id in dag_ids:
            if dag_id not in dags:
                raise UserError(f"DAG {dag_id} is not in {cfg.dags_dir}")
            gc.freeze()
            started = time.monotonic()
            run = dags[dag_id].test(run_conf=conf)
            state = str(getattr(run.state, "value", run.state))
            outcomes.append(DagOutcome(dag_id, state, time.monotonic() - started, run.run_id))
            if state != "success":
                break
    return outcomes
