"""The command as a person meets it (issue 23, items 1, 2 and 4): the real ``lowincome`` executable in a
subprocess, its exit code and standard error; a terminal through ``pty`` where a terminal matters.

Wrong input is one line on stderr and exit code 2, never a traceback; a closed pipe ends the command
quietly; the data folder is the one LOWINCOME_DATA_DIR names, for generate, ingest and run alike.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.county_files import COUNTY, households, table, villages, write_csv

LOWINCOME = str(Path(sys.executable).with_name("lowincome"))


def lowincome(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([LOWINCOME, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def in_a_terminal(*args: str, env: dict | None = None, timeout: float = 600) -> tuple[int, str, list[float]]:
    """Run in a pseudo-terminal: (exit code, everything shown, when each line ended, seconds from the start)."""
    leader, follower = pty.openpty()
    started = time.monotonic()
    proc = subprocess.Popen([LOWINCOME, *args], stdin=follower, stdout=follower, stderr=follower,
                            env={**os.environ, **(env or {})}, close_fds=True)
    os.close(follower)
    shown, ends = b"", []
    while True:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:   # EIO: the terminal's last writer has gone
                break
            if not chunk:
                break
            ends += [time.monotonic() - started] * chunk.count(b"\n")
            shown += chunk
        elif proc.poll() is not None:
            break
        assert time.monotonic() - started < timeout, shown.decode(errors="replace")
    os.close(leader)
    return proc.wait(), shown.decode("utf-8", "replace"), ends


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


@pytest.mark.parametrize("county", ["999999", "abc", "330000x"])
def test_an_unknown_county_is_one_line_and_exit_2(cfg, county):
    line = one_line_error(lowincome("status", "--county", county), "unknown county", county)
    assert line.startswith("lowincome: ")


@pytest.mark.parametrize("year", ["1999", "2040", "twenty"])
def test_an_unknown_year_is_one_line_and_exit_2(cfg, year):
    one_line_error(lowincome("status", "--year", year), year)
    one_line_error(lowincome("generate", "--years", f"{year}-2014"), year)


def test_counties_and_the_province_by_code_or_name(empty_warehouse):
    from lowincome.ingest.account import resolve_county, status_report
    from lowincome.ingest.pipeline import connect

    assert [resolve_county(c) for c in ("330803", "衢江区", "衢江", "330000", "浙江省", None)] == [
        "330803", "330803", "330803", "330000", "330000", None]
    with connect(empty_warehouse) as conn:
        assert status_report(conn, county="330000").startswith("Ledger for 330000 浙江省: no files received yet")


def test_a_missing_folder_is_one_line_and_exit_2(cfg, tmp_path):
    one_line_error(lowincome("ingest", "/no/such/dir"), "/no/such/dir", "does not exist")
    (tmp_path / "a-file").write_text("x")
    one_line_error(lowincome("ingest", str(tmp_path / "a-file")), "is not a folder")
    one_line_error(lowincome("check", "--landing", "/no/such/dir"), "/no/such/dir", "does not exist")
    one_line_error(lowincome("run", "--landing", "/no/such/dir"), "landing folder /no/such/dir does not exist")


def test_a_night_whose_landing_folder_is_missing_says_so_and_fails(cfg, tmp_path):
    """LOWINCOME_DATA_DIR pointing at a folder without landing (a typo, an unmounted share): not a quiet
    empty night."""
    data = tmp_path / "data-of-a-typo"
    line = one_line_error(lowincome("run", "--quiet", env={"LOWINCOME_DATA_DIR": str(data)}), "landing folder")
    assert f"{data / 'landing'} does not exist" in line and f"LOWINCOME_DATA_DIR={data}" in line


def test_a_scheduled_night_whose_landing_folder_is_missing_fails_its_first_task(empty_warehouse, tmp_path):
    from lowincome.ingest.pipeline import plan_batches

    with pytest.raises(RuntimeError, match="landing folder .*gone does not exist"):
        plan_batches("scheduled__2026-12-08", landing=str(tmp_path / "gone"), cfg=empty_warehouse)
    with pytest.raises(RuntimeError, match="landing folder .* does not exist"):
        plan_batches("scheduled__2026-12-08", cfg=empty_warehouse)   # the default: $LOWINCOME_DATA_DIR/landing


def test_a_closed_pipe_ends_quietly(empty_warehouse):
    """``lowincome status | head``: the reader has gone before the command writes; no traceback, exit 141."""
    proc = subprocess.Popen([LOWINCOME, "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""
    shell = subprocess.run(["bash", "-o", "pipefail", "-c", f"{LOWINCOME} --help | head -c 1 >/dev/null"],
                           capture_output=True, text=True, timeout=60)
    assert "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr


def test_help_has_no_rst_markup_and_every_argument_says_what_it_is(cfg):
    for name in [None, "db", "run", "generate", "ingest", "status", "check", "ui", "worker"]:
        result = lowincome(*([name] if name else []), "--help")
        assert result.returncode == 0
        assert "``" not in result.stdout and "`" not in result.stdout, (name, result.stdout)
    ingest = lowincome("ingest", "--help").stdout
    assert "the folder of county files to ingest" in ingest


def test_generate_writes_where_run_reads(cfg, tmp_path):
    """No --out: the landing folder of LOWINCOME_DATA_DIR (make demo relies on it)."""
    data = tmp_path / "elsewhere"
    result = lowincome("generate", "--years", "2014", "--counties", "330803", "--format", "csv",
                       env={"LOWINCOME_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stderr
    assert [p for p in (data / "landing").iterdir() if p.name.startswith("330803")]
    assert result.stderr.strip().splitlines() == ["generate: 1/1 counties written"]   # not a terminal: plain


def test_generate_shows_its_progress_in_place_on_a_terminal(cfg, tmp_path):
    code, shown, _ends = in_a_terminal("generate", "--years", "2014", "--counties", "330803", "331127",
                                       "--format", "csv", "--out", str(tmp_path / "out"))
    assert code == 0, shown
    assert "\r\x1b[Kgenerate: 2/2 counties written" in shown


def test_ingest_progress_is_plain_lines_when_not_a_terminal(empty_warehouse):
    cfg = empty_warehouse
    for year in (2013, 2014):
        write_csv(cfg.landing_dir / f"{COUNTY}_villages_{year}.csv", table(villages(3, year=year), "villages"))
    result = lowincome("ingest", str(cfg.landing_dir))
    assert result.returncode == 0, result.stderr
    assert "ingest: 2/2 files read" in result.stderr
    assert "ingest: 2/2 files validated and loaded" in result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr


@pytest.mark.slow
def test_a_night_in_a_terminal_streams_its_tasks_and_ends_with_a_summary(empty_warehouse, airflow_ready):
    """A line per finished task as the night goes (the first long before the end), a status line rewritten
    in place, then per DAG and per county."""
    cfg = empty_warehouse
    write_csv(cfg.landing_dir / f"{COUNTY}_villages_2014.csv", table(villages(3), "villages"))
    write_csv(cfg.landing_dir / f"{COUNTY}_households_2014.csv", table(households(3), "households"))
    code, shown, ends = in_a_terminal("run", timeout=1200)
    assert code == 0, shown
    lines = shown.replace("\r\n", "\n").split("\n")
    plan = next(i for i, line in enumerate(lines)
                if "ingest_county_submissions" in line and "plan_batches" in line and "success" in line)
    last = len(ends) - 1
    assert ends[plan] < ends[last] - 10, "the first task's line came only at the end"
    assert any("build_warehouse" in line and "success" in line for line in lines)
    assert any("load_county[330803]" in line for line in lines), shown
    assert "\x1b[K" in shown   # the running task's status line, rewritten in place on a terminal
    county = next(line for line in lines if line.strip().startswith("330803 衢江区"))
    assert county.split()[2:4] == ["2", "0"], county        # 2 files loaded, none rejected
    assert lines[-2].startswith("nightly pipeline finished in") and "2 file(s): 2 loaded, 0 rejected" in lines[-2]


@pytest.mark.slow
def test_a_night_with_nothing_new_under_quiet_is_one_line(empty_warehouse, airflow_ready):
    """For cron: no task lines, no Airflow output, no summary table; the one line says nothing was new."""
    empty_warehouse.landing_dir.mkdir(parents=True)
    quiet = lowincome("run", "--quiet", timeout=1200)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip().splitlines() == [quiet.stdout.strip()]
    assert "nothing new: no files were waiting in" in quiet.stdout
    assert "\x1b" not in quiet.stdout


def test_export_sdmx_refusals_are_one_line_and_exit_2(empty_warehouse, tmp_path):
    """lowincome export sdmx (issue 24.6): a --out whose parent is missing, a warehouse with nothing published."""
    missing = tmp_path / "no" / "such"
    one_line_error(lowincome("export", "sdmx", "--out", str(missing)), f"{missing.parent} does not exist")
    line = one_line_error(lowincome("export", "sdmx", "--out", str(tmp_path / "sdmx")), "nothing is published")
    assert line.startswith("lowincome: ") and "lowincome run" in line
    assert not (tmp_path / "sdmx").exists(), "a refused export creates nothing"
