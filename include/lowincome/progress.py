"""What a long command shows while it works: on a terminal a status line rewritten in place, elsewhere
(cron, a pipe, a log file) plain lines only, each complete. No Airflow here (``generate`` uses it):
``lowincome run``'s task listener is :mod:`lowincome.task_lines`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import threading
from typing import TextIO

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
    """The terminal's width (COLUMNS, else the terminal's own, else 100 when it reports none)."""
    return shutil.get_terminal_size((100, 24)).columns
