"""A big file parsed on two cores: a forked helper reads the second half of the rows into the same load table.

Part of :mod:`lowincome.speedups` (``LOWINCOME_SPEEDUPS=0``: every file is parsed by the process that
reads it). A ``fork()`` inside an Airflow task is what it costs: kept because the big-file ingest
targets depend on it (README, speed-ups).

Parsing (reading, normalising, the pseudonyms' HMACs) is Python and takes one core; PostgreSQL's side of
the ``COPY`` leaves the other one mostly idle. For a CSV where every line break ends a record
(:func:`lowincome.ingest.read.csv_split`) and for a streamed sheet (a helper inflates the sheet's XML
up to its half without parsing it, :func:`lowincome.ingest.read.sheet_split`), the process that
parses the file forks a helper once its first data row is behind it (a unit row under the header has
changed the columns' scales by then) and stops at the row where the helper starts. The helper parses
from there with the same compiled row function, ``COPY``s into the same load table through a
connection of its own and commits, then sends back its tally (rows read, blank and total rows, counties
and years seen) or what went wrong. The file's own ``COPY`` ends only after that, so the load table is
complete when the parse returns.

Nothing changes for what comes after: the load table is the same set of rows, with the same row
numbers, as a single reader gives (the tests compare the two). A failure in either half rejects the
file or fails the task exactly as it would in one process; the helper is killed when the parse is
abandoned, and it exits by itself when the parsing process dies (SIGKILL included), so a dead run's load
table can always be dropped.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
from collections.abc import Iterator
from typing import Any

import psycopg

from lowincome.ingest import load_tables
from lowincome.ingest.normalise import RowStream, RowTally
from lowincome.ingest.read import Split
from lowincome.ingest.reasons import FileRejected, NotTheFilesFault, as_rejection, describe

CHECK_PARENT_EVERY = 1 << 16   # rows between the helper's checks that the process that forked it lives
# Memory each helper of this process added: its peak RSS above the RSS it inherited at the fork (the pages
# it shares with this process are counted once, here). Read by the benchmarks' peak-memory figure.
helper_growth_kib: list[int] = []


class HelperFailed(NotTheFilesFault):
    """The helper failed for a reason that is not the file's (the warehouse, memory, a signal)."""


def rows_in_two(stream: RowStream, url: str, load_table: str, split: Split) -> Iterator[tuple]:
    """The load-table rows of the source rows before ``split.first_line``; the helper writes the others.

    Ends (after the last row of this half) only once the helper has committed its rows, merging its
    tally into ``stream.tally``; raises what the helper raised.
    """
    mine = stream.rows(until=split.first_line)
    first = next(mine, None)
    if first is None:   # no data row in the first half: nothing to share
        tally = stream.tally
        blank_so_far = tally.unit_rows + tally.not_data == 0
        yield from stream.rows_of(split.part(), below_header=blank_so_far)
        return
    helper = _Helper(stream, url, load_table, split)
    try:
        yield first
        yield from mine
        tally = helper.result()
    finally:
        helper.stop()
    _merge(stream.tally, tally)


class _Helper:
    def __init__(self, stream: RowStream, url: str, load_table: str, split: Split):
        parent = os.getpid()
        try:
            read_end, write_end = os.pipe()
            self.pid = os.fork()
        except OSError as err:   # a process limit, not the file's fault
            raise HelperFailed(f"could not start the second parsing process: {err}") from err
        if self.pid == 0:   # the helper: never returns
            os.close(read_end)
            _helper_main(write_end, parent, stream, url, load_table, split)
        os.close(write_end)
        self._read_end = read_end
        self._done = False

    def result(self) -> RowTally:
        read_end, self._read_end = self._read_end, None   # the file object below owns it now
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read()
        status = self._reap()
        if not message:
            raise HelperFailed(f"the second parsing process ended without a result (wait status {status})")
        kind, value = pickle.loads(message)  # noqa: S301 - written by our own fork, through our own pipe
        if kind == "rows":
            tally, growth = value
            helper_growth_kib.append(growth)
            return tally
        if kind == "rejected":
            raise FileRejected(value[0], **value[1])
        raise HelperFailed(f"the second parsing process failed: {value}")

    def stop(self) -> None:
        """Kill and reap the helper when this half ended early (the file rejected, an error)."""
        if self._read_end is not None:
            os.close(self._read_end)
            self._read_end = None
        if not self._done:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()

    def _reap(self) -> int | None:
        """Wait for the helper's exit; its wait status (None when something else already reaped it)."""
        self._done = True
        try:
            return os.waitpid(self.pid, 0)[1]
        except ChildProcessError:
            return None


def _helper_main(pipe: int, parent: int, stream: RowStream, url: str, load_table: str, split: Split) -> None:
    # Inherited objects (the parent's connection among them) must never be finalised here: no garbage
    # collection, and os._exit at the end (no atexit, no flushing of the parent's buffers).
    gc.disable()
    code = 1
    inherited = status_kib("VmRSS")
    try:
        stream.tally = RowTally()
        rows = _while_parent_lives(stream.rows_of(split.part()), parent)
        with psycopg.connect(url, application_name="lowincome-ingest-part") as conn:
            load_tables.copy_rows(conn, load_table, stream.load_columns, rows, analyze=False)
        message: tuple[str, Any] = ("rows", (stream.tally, max(0, status_kib("VmHWM") - inherited)))
        code = 0
    except BaseException as err:  # noqa: BLE001 - everything goes back to the parent
        rejection = as_rejection(err)
        message = ("rejected", (rejection.code, rejection.params)) if rejection else ("failed", describe(err))
    try:
        data = pickle.dumps(message)
        while data:
            data = data[os.write(pipe, data):]
    finally:
        os._exit(code)


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
