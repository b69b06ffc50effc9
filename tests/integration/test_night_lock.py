"""The warehouse lock (lowincome.night_lock): one ingestion at a time, and never a night that goes on unlocked.

The attacks of issue 27: an administrator terminates the lock's connection mid-night (the night went on
unlocked and a second run took the lock), ``lowincome ingest`` beside a night (it took no lock at all).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from fixtures.county_files import COUNTY, households, table, write_csv
from fixtures.ingest_support import ingest, value

from lowincome import night_lock
from lowincome.errors import UserError
from lowincome.ingest import pipeline


@pytest.fixture
def python_sigint(monkeypatch):
    """SIGINT raising KeyboardInterrupt, as in a `lowincome` process (an earlier test's in-process Airflow
    run may have left another handler in this one), and no os._exit of the test session: a watcher whose
    interrupt was not acted on fails the test instead of ending pytest after 30 s."""
    monkeypatch.setattr(night_lock, "EXIT_AFTER", 3600.0)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _terminate_lock_backend(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as admin:
        pid = admin.execute("select backend_pid from ops.ingest_lock where kind = 'cli'").fetchone()[0]
        assert admin.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    return pid


def test_a_terminated_lock_connection_interrupts_the_command_at_once(empty_warehouse, python_sigint):
    url = empty_warehouse.warehouse_url()
    # "this run stopped": the watcher interrupted the night's work; a night that ran to its end would
    # only learn of the loss there ("near the end of this run")
    terminated = []
    with pytest.raises(night_lock.LockLost, match="warehouse lock was lost .*; this run stopped"):  # noqa: PT012
        with night_lock.command_lock(url, "lowincome run"):
            terminated.append(value(empty_warehouse, "select backend_pid from ops.ingest_lock"))
            # an administrator, elsewhere, while the night works: the watcher interrupts the work
            threading.Thread(target=_terminate_lock_backend, args=(url,), daemon=True).start()
            time.sleep(120)
    _wait_until_gone(url, terminated[0])   # pg_terminate_backend only signals: its locks go when it has exited
    # the lock is free again, and the dead holder no longer counts
    with night_lock.command_lock(url, "lowincome ingest") as holder:
        assert value(empty_warehouse, "select holder from ops.ingest_lock") == holder
    assert value(empty_warehouse, "select holder from ops.ingest_lock") is None


def test_a_night_whose_lock_was_taken_over_stops_before_its_next_task(empty_warehouse, python_sigint, monkeypatch):
    """The fence: between the loss and the watcher's interrupt, no task of the night touches a file."""
    # the fence alone: the watcher's interrupt (the test above) is left out, so it cannot land after the block
    monkeypatch.setattr(night_lock.signal, "pthread_kill", lambda *args: None)
    url = empty_warehouse.warehouse_url()
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(night_lock.LockLost):  # noqa: PT012
            with night_lock.command_lock(url, "lowincome run") as holder:
                night_lock.confirm(conn, holder)   # held: fine
                # the lock's backend is gone: another run may take the lock at once
                with psycopg.connect(url, autocommit=True) as admin:
                    pid = admin.execute("select backend_pid from ops.ingest_lock").fetchone()[0]
                    admin.execute("select pg_terminate_backend(%s)", (pid,))
                _wait_until_gone(url, pid)
                try:
                    night_lock.confirm(conn, holder)
                except night_lock.LockLost:
                    raise
                except KeyboardInterrupt:   # the watcher was quicker than the fence: also a stop
                    raise night_lock.LockLost("interrupted") from None
                pytest.fail("confirm() let a night go on without its lock")
        # a DAG run may take it now, and the dead command cannot confirm any more
        assert night_lock.take_for_dag(conn, "scheduled__x") == "dag:scheduled__x"
        with pytest.raises(night_lock.LockLost, match="held by the ingest DAG run scheduled__x"):
            night_lock.confirm(conn, holder)


def test_ingest_and_the_nightly_dag_exclude_each_other(empty_warehouse, tmp_path):
    cfg = empty_warehouse
    url = cfg.warehouse_url()
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / f"{COUNTY}_households_2014.csv", table(households(), "households"))
    with psycopg.connect(url, autocommit=True) as conn:
        # a scheduled DAG run holds it: `lowincome ingest` waits, the file stays in landing
        night_lock.take_for_dag(conn, "scheduled__2026-12-07")
        with pytest.raises(night_lock.LockBusy, match="ingest DAG run scheduled__2026-12-07"):
            ingest(cfg, landing)
        assert sorted(p.name for p in landing.iterdir()) == [f"{COUNTY}_households_2014.csv"]
        # a second DAG run (one at a time under the scheduler: the first has ended) takes it over
        assert night_lock.take_for_dag(conn, "scheduled__2026-12-08") == "dag:scheduled__2026-12-08"
        assert night_lock.release_for_dag(conn, "scheduled__2026-12-08")
        # a command holds it: the DAG's first task and a second command are refused, nothing moves
        with night_lock.command_lock(url, "lowincome ingest"):
            with pytest.raises(night_lock.LockBusy, match="lowincome ingest pid"):
                pipeline.plan_batches("scheduled__2026-12-09", str(landing), cfg=cfg)
            with pytest.raises(night_lock.LockBusy, match="holds the warehouse lock"):
                ingest(cfg, landing)
            assert value(cfg, "select count(*) from ops.submissions") == 0
        # free again: the file loads once
        assert ingest(cfg, landing)[f"{COUNTY}_households_2014.csv"].status == "loaded"


def test_the_nightly_run_refuses_while_an_ingest_holds_the_lock(empty_warehouse, tmp_path):
    from lowincome.pipeline import run_nightly

    with night_lock.command_lock(empty_warehouse.warehouse_url(), "lowincome ingest"):
        with pytest.raises(UserError, match="lowincome ingest pid .* holds the warehouse lock"):
            run_nightly(empty_warehouse, landing=tmp_path)


def test_a_lost_lock_during_lowincome_ingest_is_one_line_and_no_traceback(empty_warehouse, tmp_path):
    """The CLI: the lock's connection terminated while files are being read; one line, exit 2."""
    cfg = empty_warehouse
    landing = cfg.landing_dir   # the files the stopped run did not load wait there (the accounting knows it)
    landing.mkdir(parents=True, exist_ok=True)
    for i in range(40):
        write_csv(landing / f"{COUNTY}_households_{2013 + i % 2}_{i}.csv",
                  table(households(200, start=1 + 200 * i, year=2013 + i % 2), "households"))
    killer = threading.Thread(target=_kill_when_held, args=(cfg.warehouse_url(),), daemon=True)
    killer.start()
    done = subprocess.run([sys.executable, "-m", "lowincome.cli", "ingest", str(landing)],
                          capture_output=True, text=True, timeout=600)
    killer.join(timeout=5)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "AdminShutdown" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("lowincome: the warehouse lock was lost") or "no longer holds the warehouse lock" in last


def _wait_until_gone(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        for _ in range(600):
            if not admin.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
                return
            time.sleep(0.05)
    pytest.fail(f"backend {pid} did not exit after pg_terminate_backend")


def _kill_when_held(url: str) -> None:
    deadline = time.monotonic() + 120
    with psycopg.connect(url, autocommit=True) as admin:
        while time.monotonic() < deadline:
            pid = admin.execute("select backend_pid from ops.ingest_lock where kind = 'cli'").fetchone()
            if pid and pid[0]:
                time.sleep(0.5)   # well inside the run: parsing has begun
                admin.execute("select pg_terminate_backend(%s)", (pid[0],))
                return
            time.sleep(0.05)


@pytest.mark.slow
def test_a_night_whose_lock_is_lost_stops_and_the_next_night_converges(empty_warehouse, airflow_ready):
    """``lowincome run`` as an operator runs it: the lock's connection terminated mid-night ends it in one
    line (no driver traceback at exit), nothing after the loss runs, and the next night converges."""
    cfg = empty_warehouse
    landing = cfg.landing_dir
    landing.mkdir(parents=True, exist_ok=True)
    for year in (2013, 2014):
        write_csv(landing / f"{COUNTY}_households_{year}.csv", table(households(50, year=year), "households"))
    killer = threading.Thread(target=_kill_when_held, args=(cfg.warehouse_url(),), daemon=True)
    killer.start()
    first = subprocess.run([sys.executable, "-m", "lowincome.cli", "run"], capture_output=True, text=True,
                           timeout=900)
    killer.join(timeout=5)
    assert first.returncode == 2, first.stderr[-3000:]
    assert "Traceback" not in first.stderr and "AdminShutdown" not in first.stderr
    assert "the warehouse lock was lost" in first.stderr.strip().splitlines()[-1]
    # nothing after the loss: no warehouse build was started by this night
    assert value(cfg, "select count(*) from ops.warehouse_builds") == 0
    second = subprocess.run([sys.executable, "-m", "lowincome.cli", "run"], capture_output=True, text=True,
                            timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    assert value(cfg, "select count(*) from ops.submissions where status = 'loaded'") == 2
    assert value(cfg, "select holder from ops.ingest_lock") is None
