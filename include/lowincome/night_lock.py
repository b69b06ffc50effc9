"""The warehouse lock: one ingestion at a time, whoever runs it, and never a night that goes on unlocked.

Three kinds of run take landing files into the ledger: ``lowincome run`` (the DAGs through ``dag.test()``
in one process), ``lowincome ingest DIR`` and the ingest DAG run by Airflow's scheduler (tasks in other
processes, maybe on other machines). They exclude each other through one row, ``ops.ingest_lock``, that
names the holder:

* a command (``kind = 'cli'``) holds the session advisory lock :data:`LOCK_NIGHTLY` on a connection of
  its own for as long as it lives; it is the holder while that backend holds the lock, so a process
  killed with SIGKILL, or a connection an administrator terminated, frees the row at once. A thread
  watches that connection: when it is lost the command is interrupted (:class:`LockLost`), and every
  task of its night checks the row before it touches a file (:func:`confirm`), so a night never
  continues unlocked even for the moment before the watcher notices.
* a DAG run (``kind = 'dag'``) takes the row in its first task and gives it back in a teardown task; its
  tasks refresh ``heartbeat_at``. The scheduler runs one ingest DAG run at a time (``max_active_runs=1``),
  so a new DAG run takes the row over from an earlier one that died without its teardown; a command
  waits for a DAG holder until its heartbeat is :data:`DAG_GRACE` old.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import select
import signal
import socket
import threading
from collections.abc import Iterator

import psycopg

from lowincome.errors import UserError

log = logging.getLogger(__name__)

LOCK_NIGHTLY = 7_301_002
DAG_GRACE = dt.timedelta(hours=6)
WATCH_INTERVAL = 2.0   # seconds between the watcher's probes of the lock's connection
EXIT_AFTER = 30.0      # seconds the command has to stop after the interrupt before the process ends


class LockLost(UserError):
    """The run no longer holds the warehouse lock: it stops, and what it committed stays committed."""


class LockBusy(UserError):
    """Another run holds the warehouse lock."""


def dag_holder(run_id: str) -> str:
    return f"dag:{run_id}"


_ROW = "select holder, kind, backend_pid, taken_at, heartbeat_at from ops.ingest_lock"
_ALIVE = """
    select exists (select 1 from pg_catalog.pg_locks
                   where locktype = 'advisory' and granted and pid = %s and database = (
                       select oid from pg_catalog.pg_database where datname = current_database())
                       and classid = 0 and objid = %s and objsubid = 1)
"""


def _cli_alive(conn: psycopg.Connection, backend_pid: int | None) -> bool:
    return backend_pid is not None and conn.execute(_ALIVE, (backend_pid, LOCK_NIGHTLY)).fetchone()[0]


def _describe(holder: str, kind: str, taken_at: dt.datetime | None) -> str:
    since = f" since {taken_at:%Y-%m-%d %H:%M:%S %Z}" if taken_at else ""
    what = "the ingest DAG run" if kind == "dag" else "the command"
    return f"{what} {holder.split(':', 1)[1]}{since}"


class _Watcher(threading.Thread):
    """Interrupts the main thread when the lock's connection is lost (the lock went with it)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        super().__init__(name="lowincome-lock-watcher", daemon=True)
        self.conn = conn
        self.stopping = threading.Event()
        self.lost: str | None = None
        # the command's stderr as it is now: a night later sends fds 1 and 2 to its log file
        self.stderr = os.dup(2)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                # A terminated backend sends its FATAL and closes: the socket turns readable at once.
                select.select([self.conn.fileno()], [], [], WATCH_INTERVAL)
                if self.stopping.is_set():
                    return
                self.conn.execute("select 1")
            except (psycopg.Error, OSError, ValueError) as err:
                if self.stopping.is_set():
                    return
                self.lost = _first_line(err) or type(err).__name__
                log.error("the warehouse lock's connection was lost (%s): stopping", self.lost)
                # A real signal to the main thread (not _thread.interrupt_main, which only sets a flag):
                # it also ends a blocking call the night is in, such as a sleep or a wait on a socket.
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                # A library may swallow the interrupt and wait on (e.g. a database session of its own):
                # the night never continues unlocked, so the process ends if the command has not.
                if not self.stopping.wait(EXIT_AFTER):
                    os.write(self.stderr, f"lowincome: {lost_message(self.lost)}\n".encode())
                    os._exit(2)
                return

    def stop(self) -> None:
        self.stopping.set()
        os.close(self.stderr)


def lost_message(why: str) -> str:
    return f"the warehouse lock was lost ({why}); this run stopped, and what it committed stays; run it again"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""


@contextlib.contextmanager
def command_lock(url: str, command: str) -> Iterator[str]:
    """Hold the warehouse lock for a command (``lowincome run`` or ``lowincome ingest``); yields the holder.

    Raises :class:`LockBusy` when another run holds it and :class:`LockLost` when the lock's connection is
    lost on the way (the night is interrupted; the caller sees one line, never the driver's traceback).
    """
    holder = f"cli:{command} pid {os.getpid()} on {socket.gethostname()}"
    conn = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="lowincome-lock")
    watcher: _Watcher | None = None
    try:
        if not conn.execute("select pg_try_advisory_lock(%s)", (LOCK_NIGHTLY,)).fetchone()[0]:
            raise LockBusy(_busy_message(conn))
        with conn.transaction():
            current, kind, _pid, taken_at, heartbeat = conn.execute(_ROW + " for update").fetchone()
            if kind == "dag" and heartbeat is not None and _now(conn) - heartbeat < DAG_GRACE:
                raise LockBusy(f"{_describe(current, kind, taken_at)} is ingesting; wait for it to finish "
                               "(`lowincome status` shows what it loaded)")
            conn.execute("update ops.ingest_lock set holder = %s, kind = 'cli', backend_pid = pg_backend_pid(),"
                         " taken_at = now(), heartbeat_at = now()", (holder,))
        watcher = _Watcher(conn)
        watcher.start()
        try:
            yield holder
        except BaseException:
            # The watcher's interrupt lands wherever the night is, and a library may wrap it in an error of
            # its own: the lost lock is the cause either way.
            if watcher.lost:
                raise LockLost(lost_message(watcher.lost)) from None
            raise
        if watcher.lost:
            raise LockLost(f"the warehouse lock was lost ({watcher.lost}) near the end of this run; what it "
                           "committed stays; run it again to make sure nothing is left")
    finally:
        if watcher is not None:
            watcher.stop()
        # The lock and the row's claim end with the connection; a connection that is already gone (the
        # administrator terminated it) has nothing left to give back.
        with contextlib.suppress(psycopg.Error):
            conn.execute("update ops.ingest_lock set holder = null, kind = null, backend_pid = null "
                         "where holder = %s and backend_pid = pg_backend_pid()", (holder,))
            conn.execute("select pg_advisory_unlock(%s)", (LOCK_NIGHTLY,))
        with contextlib.suppress(psycopg.Error):
            conn.close()


def _busy_message(conn: psycopg.Connection) -> str:
    current, kind, _pid, taken_at, _heartbeat = conn.execute(_ROW).fetchone()
    who = _describe(current, kind, taken_at) if current else "another `lowincome run` or `lowincome ingest`"
    return f"{who} holds the warehouse lock; wait for it to finish (`lowincome status` shows what it loaded)"


def _now(conn: psycopg.Connection) -> dt.datetime:
    return conn.execute("select now()").fetchone()[0]


def take_for_dag(conn: psycopg.Connection, run_id: str) -> str:
    """The ingest DAG run's first task: take the row (from a dead command or an earlier DAG run)."""
    holder = dag_holder(run_id)
    with conn.transaction():
        current, kind, pid, taken_at, _heartbeat = conn.execute(_ROW + " for update").fetchone()
        if current == holder:
            return holder
        if kind == "cli" and _cli_alive(conn, pid):
            raise LockBusy(f"{_describe(current, kind, taken_at)} holds the warehouse lock; this DAG run "
                           "tries again at its next retry")
        if kind == "dag":
            log.warning("taking the warehouse lock over from %s (one ingest DAG run at a time: it has ended)",
                        current)
        conn.execute("update ops.ingest_lock set holder = %s, kind = 'dag', backend_pid = null, taken_at = now(),"
                     " heartbeat_at = now()", (holder,))
    return holder


def confirm(conn: psycopg.Connection, holder: str) -> None:
    """Before a task of a night touches files or the ledger: the night still holds the lock (else LockLost)."""
    with conn.transaction():
        current, kind, pid, taken_at, _heartbeat = conn.execute(_ROW + " for update").fetchone()
        if current != holder or (kind == "cli" and not _cli_alive(conn, pid)):
            now = _describe(current, kind, taken_at) if current else "nobody"
            raise LockLost(f"this night no longer holds the warehouse lock (it is now held by {now}); "
                           "it stops here, and what it committed stays")
        if kind == "dag":
            conn.execute("update ops.ingest_lock set heartbeat_at = now()")


def release_for_dag(conn: psycopg.Connection, run_id: str) -> bool:
    """The ingest DAG run's teardown: give the row back if this run still holds it."""
    released = conn.execute("update ops.ingest_lock set holder = null, kind = null, backend_pid = null "
                            "where holder = %s returning 1", (dag_holder(run_id),)).fetchone()
    return released is not None
