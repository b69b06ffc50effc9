"""The nightly DAG is never failed by one file (issue 27, items 2 and 4), through dag.test().

The same attacks through the CLI's runner: tests/integration/test_one_file_never_blocks_a_night.py.
Counties 330281-330283 in 2028: no other test writes them.
"""

from __future__ import annotations

import uuid

import pytest
from fixtures.county_files import households, incomes, table, write_csv
from fixtures.ingest_support import rows

YEAR = 2028
LONG_NAME = "衢" * 83 + ".csv"          # 253 bytes in UTF-8: a legal name


def _state(obj) -> str:
    return str(getattr(obj.state, "value", obj.state))


def _summary(run) -> dict:
    """What the night's publish_raw task returned (the raw asset event's extra)."""
    from airflow.settings import Session
    from sqlalchemy import text

    with Session() as session:
        [(value,)] = session.execute(text(
            "select value from xcom where dag_id = :dag and run_id = :run and task_id = 'publish_raw' "
            "and key = 'return_value'"), {"dag": run.dag_id, "run": run.run_id}).fetchall()
    return value


def _ledger(cfg, *counties: str) -> dict[str, tuple]:
    return {r["file_name"]: (r["status"], r["rows_loaded"], r["cleared_at"] is not None) for r in rows(
        cfg, "select * from ops.submissions where county_code = any(%s) and year = %s", (list(counties), YEAR))}


@pytest.mark.slow
def test_the_same_register_under_two_names_does_not_fail_the_night(run_dag, cfg, tmp_path):
    landing = tmp_path / "landing_twice"
    register = table(households(6, county="330281", year=YEAR), "households")
    write_csv(landing / f"330281_households_{YEAR}.csv", register)
    write_csv(landing / f"余姚市{YEAR}年低收入农户登记表.csv", register)
    write_csv(landing / f"330281_household_income_{YEAR}.csv",
              table(incomes(6, county="330281", year=YEAR), "household_income"))
    write_csv(landing / f"330282_households_{YEAR}.csv", table(households(3, county="330282", year=YEAR),
                                                               "households"))
    run = run_dag("ingest_county_submissions", {"landing_dir": str(landing)})
    assert _state(run) == "success"
    got = _ledger(cfg, "330281", "330282")
    assert sorted(v for k, v in got.items() if "households" in k or "登记表" in k) == [
        ("duplicate", 0, True), ("loaded", 3, True), ("loaded", 6, True)]
    # the income file was checked against the loaded original: every household is in the register
    assert got[f"330281_household_income_{YEAR}.csv"] == ("loaded", 6, True)
    states = {ti.task_id: _state(ti) for ti in run.get_task_instances()}
    assert states["publish_raw"] == "success" and states["check_counties"] == "success"
    assert list(landing.iterdir()) == []


@pytest.mark.slow
def test_a_long_name_and_a_failed_copy_do_not_fail_the_night(run_dag, cfg, tmp_path):
    """A file of 253 bytes' name, and a county whose feedback folder is taken by a regular file (the
    feedback write fails after the ledger committed): the night succeeds, the other county loads, the
    stranded file waits in landing, and the next night finishes it without recording it twice."""
    landing = tmp_path / "landing_stranded"
    landing.mkdir()
    (landing / LONG_NAME).write_bytes(f"junk {uuid.uuid4()}".encode())
    write_csv(landing / f"330283_households_{YEAR}.csv", table(households(4, county="330283", year=YEAR),
                                                               "households"))
    write_csv(landing / f"330282_household_income_{YEAR}.csv",
              table(incomes(3, county="330282", year=YEAR), "household_income"))
    blocker = cfg.feedback_dir / "330283"
    cfg.feedback_dir.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"not a folder")
    try:
        run = run_dag("ingest_county_submissions", {"landing_dir": str(landing)})
        assert _state(run) == "success"
        assert _ledger(cfg, "330283") == {f"330283_households_{YEAR}.csv": ("loaded", 4, False)}
        assert _ledger(cfg, "330282")[f"330282_household_income_{YEAR}.csv"] == ("loaded", 3, True)
        [long] = rows(cfg, "select status, cleared_at, feedback_path from ops.submissions where file_name = %s",
                      (LONG_NAME,))
        assert long["status"] == "rejected" and long["cleared_at"] is not None
        assert [p.name for p in landing.iterdir()] == [f"330283_households_{YEAR}.csv"]
        # the night's summary says one file is recorded but waits
        assert _summary(run)["unfinished"] == 1
    finally:
        blocker.unlink()
    again = run_dag("ingest_county_submissions", {"landing_dir": str(landing)})
    assert _state(again) == "success"
    assert _ledger(cfg, "330283") == {f"330283_households_{YEAR}.csv": ("loaded", 4, True)}
    assert list(landing.iterdir()) == []
    assert [p.name for p in (cfg.feedback_dir / "330283").iterdir()][0].endswith(f"330283_households_{YEAR}_反馈.csv")
