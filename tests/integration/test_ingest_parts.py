"""A big CSV or sheet parsed by two processes (lowincome.speedups.two_cores) ends exactly as when one process parses it.

The split is forced on small files by lowering ``read.SPLIT_ABOVE``; each file is ingested once
without a split and once with one, on the same warehouse, and every table the ingestion writes must be
the same.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
from fixtures.county_files import COUNTY, YEAR, households, table, villages, write_csv, write_xlsx
from fixtures.ingest_support import accounting_holds, ingest, rows, value

from lowincome import speedups
from lowincome.ingest import load_tables, pipeline, read
from lowincome.speedups import two_cores as parts

pytestmark = pytest.mark.skipif(not speedups.enabled(), reason="a speed-up: off with LOWINCOME_SPEEDUPS=0")

TABLES = ("raw.households", "raw.villages", "ops.submissions", "ops.rejected_rows", "ops.row_warnings",
          "ops.validation_results", "ops.validation_runs", "ops.load_tables")


def fingerprint(cfg, template: str) -> dict:
    return {
        "raw": rows(cfg, f"""select to_jsonb(t) - '_submission_id' as r from raw.{template} t
                             order by t._source_row"""),
        "ledger": rows(cfg, """select file_name, county_code, template, year, status, rows_read, rows_loaded,
                                      rows_rejected, rows_warned, reason_code, reason from ops.submissions"""),
        "rejected": rows(cfg, "select row_number, column_name, rule, reason, raw_values from ops.rejected_rows "
                              "order by row_number, id"),
        "warnings": rows(cfg, "select row_number, column_name, rule from ops.row_warnings order by 1, 2, 3"),
    }


def reset(cfg) -> None:
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        for (name,) in conn.execute("select name from ops.load_tables").fetchall():
            load_tables.drop(conn, name)
        conn.execute(f"truncate {', '.join(TABLES)} restart identity cascade")


@pytest.fixture
def helpers(monkeypatch) -> list[int]:
    """The pids of the helper processes started while the test runs (each checked to be a fresh
    interpreter started by this process, with nothing secret on its command line or added to its
    environment); this process never forks."""
    started: list[int] = []
    real = parts._Helper.__init__

    def recording(self, *args, **kwargs):
        real(self, *args, **kwargs)
        started.append(self.pid)
        check_fresh_interpreter(self.pid)

    def no_fork():
        raise AssertionError("the task's process forked")

    monkeypatch.setattr(parts._Helper, "__init__", recording)
    monkeypatch.setattr(os, "fork", no_fork)
    return started


def check_fresh_interpreter(pid: int) -> None:
    """A helper that has not ended yet: started by this process as ``python -m lowincome.speedups.two_cores``
    (an exec'd interpreter, not a copy of this one), with the environment this process has (nothing
    added to it) and no secret on its command line."""
    deadline = time.monotonic() + 5
    while True:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
            status = Path(f"/proc/{pid}/status").read_text()
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")[:-1]
        except FileNotFoundError:   # already gone (no /proc, or a very fast helper): nothing to look at
            return
        if "State:\tZ" in status:
            return
        # empty while the kernel still sets up the exec'd program (its arguments come last)
        if cmdline or time.monotonic() > deadline:
            break
        time.sleep(0.001)
    assert [a.decode() for a in cmdline] == list(parts.COMMAND)
    assert f"PPid:\t{os.getpid()}\n" in status
    # what this process's libraries set outside os.environ (a terminal's COLUMNS) aside, the same
    added = set(environ) - {f"{k}={v}".encode() for k, v in os.environ.items()}
    assert not [entry for entry in added if entry.startswith((b"LOWINCOME", b"PG", b"AIRFLOW"))], added
    secrets = [v.encode() for k, v in os.environ.items() if k in ("LOWINCOME_HMAC_KEY", "LOWINCOME_WAREHOUSE_URL")]
    assert not [arg for arg in cmdline if any(secret in arg for secret in secrets)]


def both_ways(cfg, monkeypatch, write, template: str) -> tuple[dict, dict, dict]:
    """(outcome, tables) ingested in one process, then the same with the file split; the outcomes."""
    found = []
    parsed: list[dict] = []
    real_parse = pipeline.parse_file

    def parse_file(*args, **kwargs):
        item = real_parse(*args, **kwargs)
        parsed.append({k: getattr(item, k) for k in ("rows_read", "county_code", "year", "columns", "rejection")})
        return item

    monkeypatch.setattr(pipeline, "parse_file", parse_file)
    for split_above in (1 << 60, 1):
        if found:
            reset(cfg)
        monkeypatch.setattr(read, "SPLIT_ABOVE", split_above)
        path = write(cfg.landing_dir)
        outcome = ingest(cfg)[path.name]
        accounting_holds(cfg)
        found.append((outcome.to_dict(), fingerprint(cfg, template)))
    (one, one_tables), (two, two_tables) = found
    for outcome in (one, two):
        outcome.pop("submission_id"), outcome.pop("feedback_path")
    assert parsed[0] == parsed[1]   # the tally of the two halves is the tally of the one reader
    return one, two, {"one": one_tables, "two": two_tables}


def register(lines: int, encoding: str = "utf-8"):
    def write(landing: Path) -> Path:
        data = households(lines)
        data[lines - 5]["head_id_number"] = "33080319650302001"       # a bad row in the second half
        data[lines - 3]["household_size"] = "多"                       # a value raw cannot hold
        body = table(data, "households")
        body[lines // 2: lines // 2] = [[], [None] * 3, []]            # blank lines around the middle
        body.append(["合计", None, None, None, None, None, None, None, lines])   # a total row
        return write_csv(landing / f"{COUNTY}_households_{YEAR}.csv", body, encoding=encoding)
    return write


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_split_register_loads_exactly_as_one_reader_loads_it(empty_warehouse, monkeypatch, helpers, encoding):
    cfg = empty_warehouse
    one, two, tables = both_ways(cfg, monkeypatch, register(3_000, encoding), "households")
    assert len(helpers) == 1                       # the second ingest really was split
    assert one == two and one["status"] == "loaded" and one["rows_read"] == 3_000
    assert one["rows_rejected"] == 2
    assert tables["one"] == tables["two"]
    assert tables["two"]["raw"][-1]["r"]["_source_row"] == 3_000 + 3 + 1   # numbered as in the file
    for pid in helpers:                            # reaped, not a zombie
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_split_workbook_loads_exactly_as_one_reader_loads_it(empty_warehouse, monkeypatch, helpers, tmp_path):
    """A streamed sheet: the helper inflates the XML up to its half unparsed (lowincome.xlsx_stream)."""
    lines = 3_000
    data = households(lines)
    data[lines - 5]["head_id_number"] = "33080319650302001"
    data[lines - 3]["household_size"] = "多"
    body = table(data, "households")
    body[lines // 2: lines // 2] = [[], [None] * 3, []]   # no row elements: the numbers jump
    body.append(["合计", None, None, None, None, None, None, None, lines])
    made = write_xlsx(tmp_path / "made.xlsx", [("登记表", body)]).read_bytes()   # one file: its sha is the ledger's

    def write(landing: Path) -> Path:
        path = landing / f"{COUNTY}_households_{YEAR}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(made)
        return path

    cfg = empty_warehouse
    monkeypatch.setattr(read, "STREAM_ABOVE", 0)           # streamed, not read whole by calamine
    one, two, tables = both_ways(cfg, monkeypatch, write, "households")
    assert len(helpers) == 1
    assert one == two and one["status"] == "loaded" and one["rows_read"] == lines and one["rows_rejected"] == 2
    assert tables["one"] == tables["two"]
    assert tables["two"]["raw"][-1]["r"]["_source_row"] == lines + 3 + 1


def test_a_unit_row_under_the_header_scales_both_halves(empty_warehouse, monkeypatch, helpers):
    def write(landing: Path) -> Path:
        data = villages(1_500)
        for i, row in enumerate(data):
            row["village_code"] = f"{COUNTY}{100 + i // 1000:03d}{i % 1000:03d}"
            row["collective_operating_income"] = 5.2
        body = table(data, "villages")
        units = [None] * len(body[0])
        units[body[0].index("村集体经营性收入")] = "万元"
        body.insert(1, units)
        return write_csv(landing / f"{COUNTY}_villages_{YEAR}.csv", body)

    cfg = empty_warehouse
    one, two, tables = both_ways(cfg, monkeypatch, write, "villages")
    assert len(helpers) == 1
    assert one == two and one["status"] == "loaded" and one["rows_loaded"] == 1_500
    assert tables["one"] == tables["two"]
    assert {r["r"]["collective_operating_income"] for r in tables["two"]["raw"]} == {52000}


def test_a_first_half_without_data_rows_is_read_in_one_process(empty_warehouse, monkeypatch, helpers):
    def write(landing: Path) -> Path:
        body = table(households(20), "households")
        # blank lines, then the unit row: still the first row under the header, so not data
        body[1:1] = [[] for _ in range(2_000)] + [["单位：元"]]
        return write_csv(landing / f"{COUNTY}_households_{YEAR}.csv", body)

    cfg = empty_warehouse
    one, two, tables = both_ways(cfg, monkeypatch, write, "households")
    assert helpers == []
    assert one == two and one["rows_read"] == one["rows_loaded"] == 20
    assert tables["one"] == tables["two"]


@pytest.mark.parametrize(("spoil", "where"), [("nul", 3 / 4), ("long_line", 3 / 4), ("nul", 1 / 4)])
def test_a_bad_half_rejects_the_file_as_one_reader_does(empty_warehouse, monkeypatch, helpers, spoil, where):
    """3/4: the helper's half (its rejection comes back through the pipe); 1/4: this process's half (the
    helper is killed and reaped before the load table is dropped). A NUL byte is a damaged line, not a
    damaged file (issue 23.5): that row is rejected and the rest loads, the same in either half."""
    def write(landing: Path) -> Path:
        path = register(2_000)(landing)
        lines = path.read_bytes().split(b"\r\n")
        at = int(len(lines) * where)
        lines[at] = lines[at] + (b"\x00" if spoil == "nul" else b"x" * read.MAX_LINE_CHARS)
        path.write_bytes(b"\r\n".join(lines))
        return path

    cfg = empty_warehouse
    one, two, tables = both_ways(cfg, monkeypatch, write, "households")
    assert len(helpers) == 1
    if spoil == "nul":
        assert one == two and one["status"] == "loaded" and one["rows_rejected"] >= 1
        assert one["rows_loaded"] + one["rows_rejected"] == one["rows_read"] == 2_000
    else:
        assert one == two and one["status"] == "rejected" and one["reason_code"] == "unreadable"
    assert tables["one"] == tables["two"]
    for pid in helpers:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_helper_that_cannot_reach_the_warehouse_fails_the_file_not_rejects_it(empty_warehouse, monkeypatch,
                                                                                 helpers):
    cfg = empty_warehouse
    monkeypatch.setattr(read, "SPLIT_ABOVE", 1)
    path = register(2_000)(cfg.landing_dir)
    real = parts._job

    def unreachable(stream, url, *args):   # the helper's URL: a port nothing listens on
        return real(stream, "postgresql://lowincome@127.0.0.1:1/lowincome?connect_timeout=5", *args)

    monkeypatch.setattr(parts, "_job", unreachable)
    outcome = ingest(cfg)[path.name]
    assert outcome.status == "error" and "second parsing process failed" in outcome.reason
    assert path.exists()                                         # waits in landing for the next run
    assert value(cfg, "select count(*) from ops.submissions") == 0
    monkeypatch.setattr(parts, "_job", real)
    assert ingest(cfg)[path.name].status == "loaded"
    assert len(helpers) == 2


def test_csv_split_finds_a_line_start_only_where_lines_are_records(tmp_path, monkeypatch):
    monkeypatch.setattr(read, "SPLIT_ABOVE", 1)
    monkeypatch.setattr(read, "_CHUNK", 5)     # chunk edges inside \r\n pairs and inside characters

    def split(name: str, lines: list[str], encoding: str = "utf-8", newline: str = "\r\n"):
        path = write_csv(tmp_path / name, table(households(1), "households"), encoding=encoding)
        with path.open("a", encoding=encoding, newline="") as handle:
            handle.write(newline.join(lines) + newline)
        tbl = read.open_table(path)
        try:
            return path, tbl, read.csv_split(tbl)
        finally:
            tbl.close()

    body = [f"{COUNTY},{YEAR},樟潭街道,330803100200,第{i}村,H{i:05d}" for i in range(200)]
    for encoding, newline in (("utf-8", "\r\n"), ("gb18030", "\n"), ("utf-8-sig", "\r\n")):
        path, tbl, found = split(f"ok-{encoding}.csv", body, encoding, newline)
        offset, line = found
        data = path.read_bytes()
        assert data[offset - 1:offset] == b"\n" and data[:offset].count(b"\n") + 1 == line
        assert abs(offset - len(data) // 2) < 80
        again = read.open_table(path)
        whole = [r for r in again.data_rows() if r[0] >= line]
        again.close()
        assert list(read.Split(line, "csv", path, offset=offset, encoding=tbl.encoding,
                               delimiter=tbl.delimiter).part()) == whole
    assert split("quoted.csv", body[:20] + ['"a\r\nb",1'] + body)[2] is None
    assert split("lone-cr.csv", body[:20] + ["a\rb"] + body)[2] is None
    assert split("utf16.csv", body, "utf-16")[2] is None
    # the middle among the rows read to find the header: a short file, and a long note above the header
    assert split("short.csv", body[:5])[2] is None
    noted = tmp_path / "noted.csv"
    intro = "".join(f"说明{i}：{'本表按统计局口径填报' * 40}\r\n" for i in range(8))
    noted.write_bytes(intro.encode() + write_csv(tmp_path / "plain.csv", table(households(3), "households"))
                      .read_bytes())
    tbl = read.open_table(noted)
    try:
        assert tbl.head[-1][0] > 8 and read.csv_split(tbl) is None
    finally:
        tbl.close()
    monkeypatch.setattr(read, "SPLIT_ABOVE", 1 << 20)
    assert split("small.csv", body)[2] is None


def test_no_process_for_the_helper_fails_the_file_not_rejects_it(empty_warehouse, monkeypatch, helpers):
    cfg = empty_warehouse
    monkeypatch.setattr(read, "SPLIT_ABOVE", 1)
    path = register(2_000)(cfg.landing_dir)

    real = parts.COMMAND
    monkeypatch.setattr(parts, "COMMAND", (str(cfg.landing_dir / "no-such-python"), "-m", "x"))
    outcome = ingest(cfg)[path.name]
    assert outcome.status == "error" and "could not start the second parsing process" in outcome.reason
    assert path.exists() and helpers == []
    monkeypatch.setattr(parts, "COMMAND", real)
    assert ingest(cfg)[path.name].status == "loaded"
    assert len(helpers) == 1


PARSE_AND_HANG = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from lowincome.ingest import read
    from lowincome.ingest.normalise import RowStream
    from lowincome.pseudonym import make_hasher
    from lowincome.speedups import two_cores
    read.SPLIT_ABOVE = 1
    table = read.open_table(Path(sys.argv[1]))
    rows = two_cores.rows_in_two(RowStream(table, make_hasher("k")), sys.argv[2], "no_such_table",
                                 read.split(table))
    next(rows)   # the helper is started
    me = os.getpid()
    print(open(f"/proc/{me}/task/{me}/children").read().split()[0], flush=True)
    time.sleep(600)
""")


def gone(pid: int) -> bool:
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()   # a zombie has exited
    except FileNotFoundError:
        return True


def test_the_helper_exits_when_the_parsing_process_is_killed(tmp_path):
    """SIGKILL of the process that parses the first half (the task's): its helper, busy (here: waiting
    for a warehouse that never answers), exits at once and is not left running on its own."""
    path = register(2_000)(tmp_path)
    with socket.socket() as silent:   # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql://lowincome@127.0.0.1:{silent.getsockname()[1]}/x?connect_timeout=120"
        parser = subprocess.Popen([sys.executable, "-c", PARSE_AND_HANG, str(path), url], stdout=subprocess.PIPE,
                                  text=True)
        try:
            helper = int(parser.stdout.readline())
            time.sleep(1)
            assert not gone(helper)
            os.kill(parser.pid, signal.SIGKILL)
            parser.wait(timeout=10)
            deadline = time.monotonic() + 10
            while not gone(helper) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gone(helper)
        finally:
            parser.kill()
            parser.wait()
            parser.stdout.close()
