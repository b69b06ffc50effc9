"""What a long command shows while it works: on a terminal a status line rewritten in place, elsewhere
(cron, a pipe, a log file) plain lines only, each complete.

:class:`TaskLines` is an Airflow task-instance listener (``airflow.listeners.hookimpl``): ``lowincome run``
registers it for the night (:func:`lowincome.pipeline.listening`) and prints one line per finished task
instance: DAG, task (with its county for a mapped one), state, seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sys
import threading
from typing import TextIO

from airflow.listeners import hookimpl

from lowincome.display import printable

_CLEAR = "\r\x1b[K"


def real_stdout() -> TextIO:
    """A stream on what standard output is now. ``lowincome run`` sends Airflow's own output (file
    descriptors 1 and 2) to a log file while the DAGs run; lines written here still reach the person."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return sys.stdout   # already a Python-level stream (a test's capture): not redirected by fd
    sys.stdout.flush()
    return os.fdopen(os.dup(fd), "w", encoding=sys.stdout.encoding or "utf-8", errors="backslashreplace",
                     buffering=1)


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Lines:
    """Whole lines to ``stream``; on a terminal also one status line under them, rewritten in place."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.terminal = is_terminal(stream)
        self._status = ""
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock, contextlib.suppress(BrokenPipeError):
            if self.terminal and self._status:
                self.stream.write(_CLEAR)
            self.stream.write(text + "\n")
            if self.terminal and self._status:
                self.stream.write(self._status)
            self.stream.flush()

    def status(self, text: str) -> None:
        """The line of what is going on now: shown on a terminal only (plain output stays plain)."""
        if not self.terminal:
            return
        with self._lock, contextlib.suppress(BrokenPipeError):
            self._status = text[: max(20, _columns() - 1)]
            self.stream.write(_CLEAR + self._status)
            self.stream.flush()

    def done(self) -> None:
        if self.terminal and self._status:
            with self._lock, contextlib.suppress(BrokenPipeError):
                self.stream.write(_CLEAR)
                self.stream.flush()
                self._status = ""


def _columns() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


def task_name(ti) -> str:
    """``load_county`` or, for a mapped instance, ``load_county[330803]`` (its rendered map index)."""
    index = getattr(ti, "map_index", -1)
    if index is None or index < 0:
        return ti.task_id
    shown = getattr(ti, "rendered_map_index", None) or index
    return f"{ti.task_id}[{printable(shown)}]"


def _seconds(ti) -> float:
    start = getattr(ti, "start_date", None)
    if start is None:
        return 0.0
    end = getattr(ti, "end_date", None) or dt.datetime.now(dt.UTC)
    return max(0.0, (end - start).total_seconds())


def task_line(dag_id: str, task: str, state: str, seconds: float) -> str:
    return f"  {dag_id:<26} {task:<44} {state:<12} {seconds:7.1f}s"


class TaskLines:
    """Airflow listener: a line per finished task instance; ``quiet``: failed ones only (cron)."""

    def __init__(self, lines: Lines, quiet: bool = False):
        self.lines, self.quiet = lines, quiet
        self.finished = 0

    def _finished(self, ti, state: str) -> None:
        self.finished += 1
        if self.quiet and state in ("success", "skipped"):
            return
        self.lines.line(task_line(ti.dag_id, task_name(ti), state, _seconds(ti)))

    @hookimpl
    def on_task_instance_running(self, previous_state, task_instance):
        if not self.quiet:
            self.lines.status(f"  … {task_instance.dag_id}: {task_name(task_instance)} running "
                              f"({self.finished} tasks done)")

    @hookimpl
    def on_task_instance_success(self, previous_state, task_instance):
        self._finished(task_instance, "success")

    @hookimpl
    def on_task_instance_skipped(self, previous_state, task_instance):
        self._finished(task_instance, "skipped")

    @hookimpl
    def on_task_instance_failed(self, previous_state, task_instance, error):
        state = getattr(task_instance, "state", None)
        self._finished(task_instance, str(getattr(state, "value", state) or "failed"))
