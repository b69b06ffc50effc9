"""The benchmark code paths run end to end at a tiny scale: structure only, never a time.

Every section either produces rows that carry a figure and a ratio, or (when a part of the project it
needs is not in the code yet) is skipped with the reason. The sections run in a database of their own
on the session's server (dropped at the end); Airflow uses the session's metadata database.
"""

from __future__ import annotations

import os
import uuid

import pytest

TINY = 0.002  # 2,000-row register; five-year warehouse of ~2,000 households a year


@pytest.fixture(scope="module")
def bench(tmp_path_factory, cfg):
    from benchmarks.harness import Bench

    saved = dict(os.environ)
    made = Bench(out=tmp_path_factory.mktemp("bench"), scale=TINY, quick=True,
                 warehouse_db=f"lowincome_bench_{uuid.uuid4().hex[:8]}", airflow_db=None, log=lambda _m: None)
    made.start()
    try:
        yield made
    finally:
        made.drop()
        os.environ.clear()
        os.environ.update(saved)


def _run(bench, name: str):
    import importlib

    from benchmarks.__main__ import MODULES

    module = importlib.import_module(MODULES[name])
    missing = module.needs(bench)
    if missing:
        pytest.skip(f"section {name}: {missing}")
    return module.run(bench)


def _assert_rows(results, section: str) -> None:
    assert results, f"section {section} produced no row"
    for r in results:
        assert r.section == section
        if r.skipped:  # a part of this section waits for code that is not there yet
            assert "not" in r.skipped
            continue
        assert r.error is None, r.error
        assert r.value is not None and r.value >= 0, r
        assert r.ratio is not None and r.ratio >= 0, r
        assert r.status in ("PASS", "MISS", "info")


def test_ingest_section_compares_the_project_with_copy_and_the_usual_way(bench):
    results = _run(bench, "ingest")
    _assert_rows(results, "ingest")
    measures = " ".join(r.measure for r in results)
    assert "CSV" in measures and "XLSX" in measures
    assert {r.target for r in results if r.target} == {"≥ 0.33", "≥ 10"}


def test_perfile_section_reports_overhead_per_file(bench, monkeypatch):
    from benchmarks import per_file

    monkeypatch.setattr(per_file, "QUICK_FILES", 3)
    results = _run(bench, "perfile")
    _assert_rows(results, "perfile")
    assert results[0].unit == "s/file"


def test_memory_section_reports_peaks_per_size(bench, monkeypatch):
    from benchmarks import memory

    # The ingest section above measured the full size already; one smaller size shows the series.
    monkeypatch.setattr(memory, "SHARES", (0.5, 1.0))
    results = _run(bench, "memory")
    _assert_rows(results, "memory")
    assert [r.unit for r in results] == ["MiB", "MiB"]
    assert all(len(r.details["peaks_mib"]) == 2 for r in results)


@pytest.mark.slow
def test_night_section_reports_stage_shares_and_airflow_overhead(bench):
    results = _run(bench, "night")
    _assert_rows(results, "night")
    stages = results[0].details["stages"]
    assert {"ingest", "dbt build"} <= set(stages)


@pytest.mark.slow
def test_incremental_and_marts_sections_run_on_the_five_year_warehouse(bench):
    results = _run(bench, "incremental")
    _assert_rows(results, "incremental")
    results = _run(bench, "marts")
    _assert_rows(results, "marts")
    assert len(results) == 2


def test_a_missing_part_is_a_skip_row_not_a_number(bench):
    from benchmarks.__main__ import run_sections

    class Missing:
        MEASURE = "something"

        @staticmethod
        def needs(_bench):
            return "lowincome.something is not in the code yet"

    import sys

    sys.modules["benchmarks._missing_for_test"] = Missing  # type: ignore[assignment]
    from benchmarks import __main__ as cli

    try:
        cli.MODULES["_missing"] = "benchmarks._missing_for_test"
        (row,) = run_sections(bench, ["_missing"])
    finally:
        cli.MODULES.pop("_missing", None)
        sys.modules.pop("benchmarks._missing_for_test", None)
    assert row.status == "SKIP" and row.value is None and row.ratio is None
    assert "lowincome.something" in row.skipped


def test_cli_options_and_table():
    from benchmarks.__main__ import QUICK_SCALE, parse_args
    from benchmarks.harness import Result
    from benchmarks.report import markdown_table, text_table

    assert parse_args(["--quick"]).scale == QUICK_SCALE
    assert parse_args([]).scale == 1.0
    assert parse_args(["--only", "ingest", "--only", "marts"]).only == ["ingest", "marts"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "nothing"])
    rows = [Result("ingest", "CSV", 10.0, "rows/s", "COPY", 40.0, 0.25, "≥ 0.33", False, note="why"),
            Result("night", "night", skipped="dags/x.py is not in the code yet")]
    table = text_table(rows)
    assert "MISS" in table and "SKIP" in table and "dags/x.py" in table
    assert markdown_table(rows).count("\n|") >= 3
