"""The benchmark CLI's arguments and the table it prints, on constructed results (no database, no Airflow).

Nothing here runs a benchmark or reads a generated workload: the sections are measured by
``python -m benchmarks``; these tests only check what turns their figures into verdicts and text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import SECTIONS
from benchmarks.__main__ import QUICK_FIVE_YEAR_COUNTIES, QUICK_NIGHT_COUNTIES, QUICK_SCALE, parse_args
from benchmarks.harness import Goal, Result
from benchmarks.report import markdown_table, summary, text_table, write

PROJECT = Path(__file__).resolve().parents[2]


# --- arguments ---------------------------------------------------------------------------------------

def test_defaults_are_a_province_year_of_every_section():
    args = parse_args([])
    assert args.scale == 1.0 and not args.quick
    assert args.only is None and args.night_counties == 0 and args.five_year_counties == 0
    assert args.five_year_scale is None


def test_quick_is_a_small_run_unless_told_otherwise():
    args = parse_args(["--quick"])
    assert (args.scale, args.night_counties, args.five_year_counties) == (
        QUICK_SCALE, QUICK_NIGHT_COUNTIES, QUICK_FIVE_YEAR_COUNTIES)
    args = parse_args(["--quick", "--night-counties", "0", "--five-year-counties", "7"])
    assert (args.night_counties, args.five_year_counties) == (0, 7)


def test_options_are_parsed():
    args = parse_args(["--scale", "0.1", "--only", "night", "--only", "marts", "--five-year-scale", "0.05",
                       "--night-counties", "20", "--five-year-counties", "5", "--out", "/tmp/x"])
    assert args.scale == 0.1 and args.five_year_scale == 0.05
    assert args.only == ["night", "marts"]
    assert (args.night_counties, args.five_year_counties) == (20, 5)
    assert args.out == Path("/tmp/x")


@pytest.mark.parametrize(("argv", "says"), [
    (["--scale", "0"], "--scale: must be a positive number"),
    (["--scale", "-1"], "--scale: must be a positive number"),
    (["--scale", "nan"], "--scale: must be a positive number"),
    (["--scale", "big"], "--scale: not a number"),
    (["--five-year-scale", "0"], "--five-year-scale: must be a positive number"),
    (["--night-counties", "-2"], "--night-counties: must be 0 (all) or more"),
    (["--five-year-counties", "2.5"], "--five-year-counties: not a whole number"),
    (["--only", "everything"], "--only: invalid choice: 'everything'"),
    (["--quick", "--scale", "0.5"], "not allowed with argument"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_arguments_are_rejected_with_one_line(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("python -m benchmarks: error: ") and says in err, err


def test_the_command_itself_rejects_before_touching_anything(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--scale", "0", "--out", str(out)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "python -m benchmarks: error: argument --scale: must be a positive number, not '0' (see --help)"]
    assert not out.exists()


def test_every_section_has_a_module_that_measures_it():
    import importlib

    from benchmarks.__main__ import MODULES

    assert set(MODULES) == set(SECTIONS)
    for section in SECTIONS:
        module = importlib.import_module(MODULES[section])
        assert module.MEASURE and callable(module.needs) and callable(module.run), section


def test_help_names_every_section(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for section in SECTIONS:
        assert section in text


# --- verdicts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("goal", "ratio", "met"), [
    (Goal("≥", 1 / 3, "1/3"), 0.34, True),
    (Goal("≥", 1 / 3, "1/3"), 1 / 3, True),
    (Goal("≥", 1 / 3, "1/3"), 0.333, False),
    (Goal("≥", 10.0), 9.99, False),
    (Goal("≤", 0.05), 0.05, True),
    (Goal("≤", 0.05), 0.0501, False),
    (Goal("<", 1.0), 1.0, False),
    (Goal("<", 1.0), 0.2, True),
    (Goal(">", 2.0), 2.5, True),
])
def test_goal_decides_met_or_missed_from_the_ratio(goal, ratio, met):
    result = Result("s", "m", 1.0, "s", "ref", 1.0, ratio, goal=goal)
    assert result.passed is met
    assert result.status == ("met" if met else "missed")
    assert result.target == goal.text


def test_goal_text_and_bad_relation():
    assert Goal("≥", 1 / 3, "1/3").text == "≥ 1/3"
    assert Goal("≤", 0.05).text == "≤ 0.05"
    with pytest.raises(ValueError, match="relation"):
        Goal("=>", 1.0)


def test_status_of_rows_without_a_verdict():
    assert Result("s", "m", 1.0, "s").status == "info"
    assert Result("s", "m", goal=Goal("<", 1.0)).status == "no ratio"
    assert Result("s", "m", error="RuntimeError: boom", goal=Goal("<", 1.0)).status == "ERROR"
    assert Result("s", "m", skipped="dags/x.py is not in the code yet", goal=Goal("<", 1.0)).status == "SKIP"
    # an explicit verdict wins over the goal (a section may judge on more than the ratio)
    assert Result("s", "m", ratio=0.1, goal=Goal("<", 1.0), passed=False).status == "missed"


# --- the table -----------------------------------------------------------------------------------

def _results() -> list[Result]:
    return [
        Result("ingest", "CSV ingest+validate (1,000,000 rows)", 420_000.0, "rows/s",
               "psycopg COPY of the parsed rows", 900_000.0, 420_000 / 900_000, goal=Goal("≥", 1 / 3, "1/3"),
               note="2.4s vs COPY 1.1s"),
        Result("ingest", "XLSX ingest+validate (1,000,000 rows)", 60_000.0, "rows/s",
               "pandas.read_excel + GX(pandas) + to_sql", 12_000.0, 5.0, goal=Goal("≥", 10.0)),
        Result("ingest", "CSV vs the usual way", 420_000.0, "rows/s", "pandas | to_sql", 70_000.0, 6.0),
        Result("marts", "one county's targets over time: median", 3.2, "ms", "50 ms target", 50.0, 0.064,
               goal=Goal("<", 1.0), note="p95 4.1 ms"),
        Result("night", "full night, province-year", error="RuntimeError: dbt failed", goal=Goal("≤", 1.0)),
        Result("incremental", "incremental night vs full rebuild", skipped="dags/x.py is not in the code yet"),
    ]


def _row(table: str, measure: str) -> str:
    lines = [line for line in table.splitlines() if measure in line and not line.lstrip().startswith("[")]
    assert len(lines) == 1, table
    return lines[0]


def test_text_table_marks_each_target_met_or_missed():
    table = text_table(_results())
    head = table.splitlines()[0].split()
    assert head == ["section", "measure", "project", "reference", "ratio", "target", "status"]
    csv_row = _row(table, "CSV ingest+validate")
    assert "420,000 rows/s" in csv_row and "900,000 rows/s (psycopg COPY" in csv_row
    assert "0.467" in csv_row and "≥ 1/3" in csv_row and csv_row.endswith("met")
    xlsx_row = _row(table, "XLSX ingest+validate")
    assert "≥ 10" in xlsx_row and xlsx_row.endswith("missed")
    assert _row(table, "CSV vs the usual way").endswith("info")
    assert _row(table, "one county's").endswith("met") and "3.2 ms" in _row(table, "one county's")
    assert _row(table, "full night").endswith("ERROR")
    assert _row(table, "incremental night").endswith("SKIP")
    assert "targets: 2 of 3 met, 1 missed; 1 failed; 1 skipped" in table.splitlines()
    # notes: the reason of every error and skip, and each note
    assert "  [night] full night, province-year: RuntimeError: dbt failed" in table.splitlines()
    assert "  [ingest] CSV ingest+validate (1,000,000 rows): 2.4s vs COPY 1.1s" in table.splitlines()


def test_table_columns_line_up():
    lines = text_table(_results()).splitlines()
    rule = lines[1]
    assert set(rule.replace(" ", "")) == {"-"}
    starts = [i for i in range(len(rule)) if rule[i] == "-" and (i == 0 or rule[i - 1] == " ")]
    assert len(starts) == 7
    for line in lines[2:8]:
        # every status column starts where its rule starts
        assert line[starts[-1]:].split()[0] in {"met", "missed", "info", "ERROR", "SKIP"}, line


def test_summary_counts_only_judged_rows():
    assert summary([]) == "targets: 0 of 0 met, 0 missed"
    assert summary([Result("s", "m", ratio=2.0, goal=Goal("≤", 1.0)),
                    Result("s", "m", ratio=0.5, goal=Goal("≤", 1.0)),
                    Result("s", "m", goal=Goal("≤", 1.0))]) == "targets: 1 of 2 met, 1 missed; 1 without a ratio"


def test_markdown_table_escapes_pipes_and_keeps_verdicts():
    table = markdown_table(_results())
    lines = table.splitlines()
    assert lines[0] == "| section | measure | project | reference | ratio | target | status |"
    body = [line for line in lines[2:] if line.startswith("| ")]
    assert len(body) == 6
    assert all(line.count(" | ") == 6 for line in body), body  # "|" inside a cell is escaped
    assert "pandas \\| to_sql" in table
    assert body[0].endswith("| met |") and body[1].endswith("| missed |")
    assert "targets: 2 of 3 met, 1 missed; 1 failed; 1 skipped." in lines


def test_write_records_results_and_verdicts(tmp_path):
    meta = {"finished_at": "2026-11-29T10:00:00+00:00", "command": "python -m benchmarks --quick",
            "machine": {"nproc": "2", "memory": "23.4 GiB"}}
    json_path, md_path = write(tmp_path, _results(), meta)
    data = json.loads(json_path.read_text())
    assert data["meta"]["command"] == "python -m benchmarks --quick"
    assert [r["status"] for r in data["results"]] == ["met", "missed", "info", "met", "ERROR", "SKIP"]
    assert data["results"][0]["goal"] == {"relation": "≥", "bound": 1 / 3, "label": "1/3"}
    text = md_path.read_text()
    assert "`python -m benchmarks --quick`" in text and "nproc 2" in text
    assert "| ingest | XLSX ingest+validate (1,000,000 rows) |" in text


def test_validating_is_judged_against_the_other_steps_of_the_same_run():
    from benchmarks.throughput import validation_share

    steps = {"plan": 0.2, "parse": 10.0, "validate": 7.5, "load": 5.0}
    row = validation_share({"steps": steps, "seconds": 22.7}, "1,000,000 rows")
    assert (row.value, row.reference_value, row.ratio, row.passed) == (7.5, 15.0, 0.5, True)
    slow = validation_share({"steps": steps | {"validate": 16.0}, "seconds": 31.2}, "1,000,000 rows")
    assert slow.passed is False and slow.target == "≤ 1"
