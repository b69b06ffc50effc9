"""``lowincome run``'s line per finished task: :class:`TaskLines`, an Airflow task-instance listener
(``airflow.listeners.hookimpl``) registered for the night (:func:`lowincome.pipeline.listening`): DAG, task
(with its county for a mapped one), state, seconds. Imports Airflow: import it after
:func:`lowincome.airflow_env.apply`.
"""

from __future__ import annotations

import datetime as dt

from airflow.listeners import hookimpl

from lowincome.display import printable
from lowincome.progress import Lines


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
