"""The nightly ingestion DAG: its declaration, and real runs through dag.test()."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from fixtures.county_files import households, incomes, province, table, villages, write_csv
from fixtures.ingest_support import rows, value

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "ingest_county_submissions.py"


@pytest.fixture(scope="module")
def dag(cfg):
    from lowincome.pipeline import load_dags

    return load_dags(cfg)["ingest_county_submissions"]


def test_declaration(dag):
    from airflow.sdk import CronTriggerTimetable

    from lowincome.assets import RAW

    assert len(DAG_FILE.read_text().splitlines()) < 80
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 2 * * *", "Asia/Shanghai")
    assert dag.catchup is False and dag.max_active_runs == 1
    assert {"ingest", "raw"} <= set(dag.tags)
    for t in dag.tasks:
        assert t.retries >= 1 and t.retry_exponential_backoff, t.task_id
        assert t.owner == "data-engineering"
    ids = set(dag.task_dict)
    assert {"plan_batches", "parse_county", "first_wave", "second_wave", "registers.validate_county",
            "registers.load_county", "dependents.validate_county", "dependents.load_county", "publish_raw",
            "check_counties", "release_lock"} == ids
    # the warehouse lock is given back whatever failed, and that never hides a failed night
    assert dag.task_dict["release_lock"].is_teardown
    assert dag.task_dict["check_counties"].downstream_task_ids == {"release_lock"}
    assert [o.name for o in dag.task_dict["publish_raw"].outlets] == [RAW.name]
    # one county's failure must not stop the rest of the night
    for task_id in ("first_wave", "second_wave", "publish_raw", "check_counties"):
        assert dag.task_dict[task_id].trigger_rule == "all_done", task_id
    # the second wave starts after every county's registers are loaded
    assert "registers.load_county" in dag.task_dict["second_wave"].upstream_task_ids


def _raw_events(cfg, since: dt.datetime) -> list:
    from airflow.settings import Session
    from sqlalchemy import text

    from lowincome.assets import RAW

    with Session() as session:
        return session.execute(text(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id "
            "where a.name = :name and e.timestamp >= :since"), {"name": RAW.name, "since": since}).fetchall()


@pytest.mark.slow
def test_a_night_loads_registers_first_and_publishes_raw(run_dag, cfg, tmp_path):
    landing = tmp_path / "landing"
    county, year = "330825", 2016                      # 龙游县 2016: no other test writes it
    write_csv(landing / f"{county}_household_income_{year}.csv",
              table(incomes(8, county=county, year=year) + incomes(1, county=county, year=year, start=50),
                    "household_income"))
    write_csv(landing / f"{county}_households_{year}.csv", table(households(8, county=county, year=year),
                                                               "households"))
    write_csv(landing / f"{county}_villages_{year}.csv", table(villages(2, county=county, year=year), "villages"))
    write_csv(landing / f"province_{year}.csv", table(province(year), "province_indicators"))
    (landing / f"{county}_relocations_{year}.xlsx").write_bytes(b"junk")
    host_file = tmp_path / "passwd"   # a file outside landing, given a second name in it: refused unread
    host_file.write_text("root:x:0:0:root:/root:/bin/bash\n")
    linked = f"{county}_program_participation_{year}.csv"
    os.link(host_file, landing / linked)
    started = dt.datetime.now(dt.UTC)
    run = run_dag("ingest_county_submissions", {"landing_dir": str(landing)})
    assert str(getattr(run.state, "value", run.state)) == "success"
    got = {r["file_name"]: (r["status"], r["rows_loaded"], r["rows_rejected"], r["reason_code"]) for r in rows(
        cfg, "select * from ops.submissions where county_code in (%s, '330000') and year = %s", (county, year))}
    assert got == {
        f"{county}_households_{year}.csv": ("loaded", 8, 0, None),
        f"{county}_villages_{year}.csv": ("loaded", 2, 0, None),
        # validated after the register of the same night was loaded: the stray household is caught
        f"{county}_household_income_{year}.csv": ("loaded", 8, 1, None),
        f"province_{year}.csv": ("loaded", 1, 0, None),
        f"{county}_relocations_{year}.xlsx": ("rejected", 0, 0, "not_a_workbook"),
    }
    income = rows(cfg, "select id from ops.submissions where file_name = %s", (f"{county}_household_income_{year}.csv",))
    assert rows(cfg, "select row_number, rule from ops.rejected_rows where submission_id = %s",
                (income[0]["id"],)) == [{"row_number": 10, "rule": "household_in_register"}]
    assert list(landing.iterdir()) == []
    assert [p for p in (cfg.quarantine_dir / "refused").iterdir() if p.name.endswith(linked + ".reason.txt")]
    assert os.stat(host_file).st_nlink == 1   # its name in landing is gone, the file itself untouched
    assert value(cfg, "select count(*) from ops.load_tables") == 0
    events = _raw_events(cfg, started)
    assert len(events) == 1 and events[0][0]["loaded"] == 4 and events[0][0]["batches"] == 3
    # both waves map both batches (the county's and the province's): the province sent nothing of the
    # first wave, so its first-wave tasks ran on an empty batch instead of a wave mapped over nothing
    states = {(ti.task_id, ti.map_index): str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}
    for task_id in ("registers.validate_county", "registers.load_county", "dependents.load_county"):
        assert [states.get((task_id, i)) for i in (0, 1)] == ["success", "success"], task_id


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("LOWINCOME_SPEEDUPS", "1") in ("0", "off", "false", "no"),
                    reason="a speed-up: off with LOWINCOME_SPEEDUPS=0")
def test_a_big_csv_is_parsed_by_two_processes_inside_the_task(run_dag, cfg, tmp_path, monkeypatch):
    """The task's own process starts the parse's helper, a fresh interpreter (lowincome.speedups.two_cores); forced on small files."""
    from lowincome.ingest import read
    from lowincome.speedups import two_cores as parts

    monkeypatch.setattr(read, "SPLIT_ABOVE", 1)
    helpers_before = len(parts.helper_growth_kib)
    landing = tmp_path / "split_landing"
    county, year = "330825", 2013                      # 龙游县 2013: no other test writes it
    write_csv(landing / f"{county}_households_{year}.csv", table(households(300, county=county, year=year),
                                                               "households"))
    write_csv(landing / f"{county}_household_income_{year}.csv",
              table(incomes(300, county=county, year=year), "household_income"))
    run = run_dag("ingest_county_submissions", {"landing_dir": str(landing)})
    assert str(getattr(run.state, "value", run.state)) == "success"
    got = {r["file_name"]: (r["status"], r["rows_loaded"], r["rows_rejected"]) for r in rows(
        cfg, "select * from ops.submissions where county_code = %s and year = %s", (county, year))}
    assert got == {f"{county}_households_{year}.csv": ("loaded", 300, 0),
                   f"{county}_household_income_{year}.csv": ("loaded", 300, 0)}
    assert len(parts.helper_growth_kib) - helpers_before == 2   # both files went through a helper
    assert value(cfg, "select count(distinct _source_row) from raw.households h join ops.submissions s "
                      "on s.id = h._submission_id where s.county_code = %s and s.year = %s", (county, year)) == 300
    assert value(cfg, "select count(*) from ops.load_tables") == 0


@pytest.mark.slow
def test_a_night_with_nothing_new_publishes_nothing(run_dag, cfg, tmp_path):
    landing = tmp_path / "empty_landing"
    landing.mkdir()
    started = dt.datetime.now(dt.UTC)
    run = run_dag("ingest_county_submissions", {"landing_dir": str(landing)})
    assert str(getattr(run.state, "value", run.state)) == "success"
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}
    assert states["publish_raw"] == "skipped"
    assert _raw_events(cfg, started) == []
