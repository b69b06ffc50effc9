"""A big file parsed on two cores: a second Python process reads the second half of the rows into the same load table.

Part of :mod:`lowincome.speedups` (``LOWINCOME_SPEEDUPS=0``: every file is parsed by the process that
reads it).

Parsing (reading, normalising, the pseudonyms' HMACs) is Python and takes one core; PostgreSQL's side of
the ``COPY`` leaves the other one mostly idle. For a CSV where every line break ends a record
(:func:`lowincome.ingest.read.csv_split`) and for a streamed sheet (the helper inflates the sheet's XML
up to its half without parsing it, :func:`lowincome.ingest.read.sheet_split`), the process that
parses the file starts a helper once its first data row is behind it (a unit row under the header has
changed the columns' scales by then) and stops at the row where the helper starts. The helper parses
from there with the same code (:class:`~lowincome.ingest.normalise.RowStream`), ``COPY``s into the same
load table through a connection of its own and commits, then sends back its tally (rows read, blank and
total rows, counties and years seen) or what went wrong. The file's own ``COPY`` ends only after that,
so the load table is complete when the parse returns.

The helper is a fresh interpreter (``python -P -m lowincome.speedups.two_cores``), not a ``fork()`` of the
task's process: a fork copies an Airflow task (its threads, its connections, its open files and logging
handlers) in whatever state they are, and only this module's care kept that safe. Not
``multiprocessing``'s spawn either: it re-imports the parent's ``__main__`` (Airflow's CLI, pytest) in
the child and brings its own resource tracker process. Its job comes through its stdin as one pickle of
plain values (:class:`Job`: the :class:`~lowincome.ingest.read.Split`, the header match with the columns'
scales as they are after the first data row, the load table, the warehouse URL, the pseudonym key, a
streamed workbook's styles and shared strings), so neither its command line nor its environment holds a
secret; its answer goes back through its stdout.

Nothing changes for what comes after: the load table is the same set of rows, with the same row
numbers, as a single reader gives (the tests compare the two). A failure in either half rejects the
file or fails the task exactly as it would in one process; the helper is killed when the parse is
abandoned, and it exits by itself when the parsing process dies (SIGKILL included: its stdin, which
only that process holds open, reaches its end), so a dead run's load table can always be dropped.
"""

from __future__ import annotations

import copy
import gc
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

import lowincome
from lowincome.ingest import load_tables
from lowincome.ingest.normalise import RowStream, RowTally
from lowincome.ingest.read import Split, Table
from lowincome.ingest.reasons import FileRejected, NotTheFilesFault, as_rejection, describe
from lowincome.ingest.recognise import HeaderMatch
from lowincome.pseudonym import make_hasher
from lowincome.xlsx_stream import Workbook

CHECK_PARENT_EVERY = 1 << 16   # rows between the helper's checks that the process that started it lives
# -P: nothing of the task's working directory on the helper's import path
COMMAND = (sys.executable, "-P", "-m", "lowincome.speedups.two_cores")
# Memory of each helper this process started: its peak RSS (VmHWM; a fresh interpreter shares nothing with
# this process). Read by the benchmarks' peak-memory figure.
helper_growth_kib: list[int] = []
_PROBE = ("two_cores", "probe")   # hashed on both sides: the helper's pseudonyms are this process's


class HelperFailed(NotTheFilesFault):
    """The helper failed for a reason that is not the file's (the warehouse, memory, a signal)."""


@dataclass(frozen=True)
class Job:
    """What the helper is told: plain values, pickled through its stdin."""

    split: Split
    kind: str                   # the table's: csv | xlsx
    match: HeaderMatch          # after the first data row: a unit row under the header has set the scales
    book: Workbook | None       # a streamed sheet's workbook without its open file (styles, shared strings)
    url: str
    load_table: str
    key: bytes                  # the pseudonym key
    probe: str | None           # the parent's pseudonym of _PROBE
    parent: int                 # the pid of the process that parses the first half
    package: str                # where that process's lowincome lives (the helper must parse with the same code)


def rows_in_two(stream: RowStream, url: str, load_table: str, split: Split) -> Iterator[tuple]:
    """The load-table rows of the source rows before ``split.first_line``; the helper writes the others.

    Ends (after the last row of this half) only once the helper has committed its rows, merging its
    tally into ``stream.tally``; raises what the helper raised. A hasher the helper cannot rebuild (not
    :func:`lowincome.pseudonym.make_hasher`'s) leaves the whole file to this process.
    """
    key = getattr(stream.hasher, "key", None)
    if not isinstance(key, bytes):
        yield from stream.rows()
        return
    mine = stream.rows(until=split.first_line)
    first = next(mine, None)
    if first is None:   # no data row in the first half: nothing to share
        tally = stream.tally
        blank_so_far = tally.unit_rows + tally.not_data == 0
        yield from stream.rows_of(split.part(stream.table.book), below_header=blank_so_far)
        return
    helper = _Helper(_job(stream, url, load_table, split, key))
    try:
        yield first
        yield from mine
        tally = helper.result()
    finally:
        helper.stop()
    _merge(stream.tally, tally)


def _job(stream: RowStream, url: str, load_table: str, split: Split, key: bytes) -> Job:
    table = stream.table
    book = None
    if table.book is not None:
        book = copy.copy(table.book)   # what it has read (styles, shared strings), without its open file
        book.archive = None
    return Job(split=split, kind=table.kind, match=table.match, book=book, url=url, load_table=load_table,
               key=key, probe=stream.hasher(*_PROBE), parent=os.getpid(), package=lowincome.__file__)


class _Helper:
    def __init__(self, job: Job):
        try:
            self.process = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            close_fds=True)
        except OSError as err:   # a process limit, no interpreter: not the file's fault
            raise HelperFailed(f"could not start the second parsing process: {err}") from err
        self.pid = self.process.pid
        self._done = False
        try:
            data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            self.stop()
            raise
        try:
            # stdin stays open: its end is how the helper learns that this process is gone
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except OSError:   # it died before reading its job: result() says how it ended
            pass

    def result(self) -> RowTally:
        message = self.process.stdout.read()
        status = self._reap()
        if not message:
            raise HelperFailed(f"the second parsing process ended without a result (exit status {status})")
        kind, value = pickle.loads(message)  # noqa: S301 - written by our own helper, through our own pipe
        if kind == "rows":
            tally, peak = value
            helper_growth_kib.append(peak)
            return tally
        if kind == "rejected":
            raise FileRejected(value[0], **value[1])
        raise HelperFailed(f"the second parsing process failed: {value}")

    def stop(self) -> None:
        """Kill and reap the helper when this half ended early (the file rejected, an error)."""
        if not self._done:
            self.process.kill()
            self._reap()

    def _reap(self) -> int | None:
        """Wait for the helper's exit (its exit status), then close its pipes."""
        self._done = True
        status = self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:   # a broken pipe flushing what the helper never read
                pass
        return status


def _helper_main() -> int:
    """The helper: reads its :class:`Job` from stdin, parses its half, answers through stdout."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)   # a stray print goes to stderr, never into the answer
    gc.disable()    # a short-lived process: its rows are freed by reference counting, nothing to collect
    code = 1
    try:
        job: Job = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the process that started this one
    except BaseException:  # noqa: BLE001 - that process is gone before it sent the job
        return 2
    try:
        _orphaned_on_eof(job.parent)
        if os.path.realpath(job.package) != os.path.realpath(lowincome.__file__):
            raise RuntimeError(f"the second parsing process imported lowincome from {lowincome.__file__}, "
                               f"not {job.package}")
        hasher = make_hasher(job.key)
        if hasher(*_PROBE) != job.probe:
            raise RuntimeError("the second parsing process computes other pseudonyms")
        table = Table(job.kind, job.match, [], iter(()), path=job.split.path, encoding=job.split.encoding,
                      delimiter=job.split.delimiter, member=job.split.member)
        stream = RowStream(table, hasher)
        rows = _while_parent_lives(stream.rows_of(job.split.part(job.book)), job.parent)
        with psycopg.connect(job.url, application_name="lowincome-ingest-part") as conn:
            load_tables.copy_rows(conn, job.load_table, stream.load_columns, rows, analyze=False)
        message: tuple[str, Any] = ("rows", (stream.tally, status_kib("VmHWM")))
        code = 0
    except BaseException as err:  # noqa: BLE001 - everything goes back to the parent
        rejection = as_rejection(err)
        message = ("rejected", (rejection.code, rejection.params)) if rejection else ("failed", describe(err))
    try:
        answer.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        answer.close()
    except OSError:   # the parent is gone
        code = 2
    return code


def _orphaned_on_eof(parent: int) -> None:
    """Exit as soon as the parsing process is gone: its end of our stdin closes when it dies."""
    def watch() -> None:
        try:
            sys.stdin.buffer.read()
        finally:
            os._exit(2)   # orphaned: the parse was abandoned or killed; its load table will be dropped

    if os.getppid() != parent:
        os._exit(2)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def status_kib(field: str) -> int:
    """A ``kB`` figure of /proc/self/status (VmRSS, VmHWM); 0 where there is no /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _while_parent_lives(rows: Iterator[tuple], parent: int) -> Iterator[tuple]:
    """A second guard beside stdin's end (a copy of the pipe's other end could outlive the parent)."""
    for count, row in enumerate(rows, start=1):
        if count % CHECK_PARENT_EVERY == 0 and os.getppid() != parent:
            os._exit(2)   # orphaned: the parse was killed; its load table will be dropped
        yield row


def _merge(into: RowTally, other: RowTally) -> None:
    into.rows_read += other.rows_read
    into.blank += other.blank
    into.not_data += other.not_data
    into.unit_rows += other.unit_rows
    into.counties.update(other.counties)
    into.years.update(other.years)


if __name__ == "__main__":
    # the module under its own name (the job's classes are pickled under it), not this __main__ copy
    from lowincome.speedups.two_cores import _helper_main as main

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)   # not waiting for the thread that watches stdin
