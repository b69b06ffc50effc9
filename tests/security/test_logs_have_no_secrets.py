"""No secret and no personal data in any log: a night of the ingestion DAG on a file of names and ID numbers,
then a dbt run of a staging model; everything they logged (log records at DEBUG, the process's stdout and
stderr, every file under the Airflow home, the data folder outside the county's own files, and dbt's log and
target folders) must hold neither the HMAC key, nor the warehouse password, nor any name or ID number of the
file."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from fixtures.county_files import COUNTY, YEAR, households, incomes, table, write_csv
from fixtures.ingest_support import rows

# The county's own bytes are kept on purpose: the landing folder, the archive of originals, the quarantine.
ORIGINALS = ("landing", "archive", "quarantine")


def forms(needle: str) -> set[bytes]:
    """How a value can appear in a file: as UTF-8 text, or escaped inside JSON (\\u5f20…, as structured
    logs and dbt's artifacts write non-ASCII text)."""
    escaped = json.dumps(needle)[1:-1]
    return {needle.encode("utf-8"), escaped.encode("utf-8")}


def scan(texts: dict[str, bytes], needles: dict[str, str]) -> list[str]:
    """``where: what`` for every needle found in any of the texts."""
    found = []
    for where, data in texts.items():
        for what, needle in needles.items():
            if any(form in data for form in forms(needle)):
                found.append(f"{where}: {what}")
    return found


def files_under(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if not root.is_dir():
        return out
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not any(
                part in skip for part in path.relative_to(root).parts[:1]):
            out[str(path)] = path.read_bytes()
    return out


def secrets_of(cfg) -> dict[str, str]:
    out = {"the HMAC key": os.environ["LOWINCOME_HMAC_KEY"]}
    password = urlsplit(cfg.warehouse_url()).password
    if password:   # an external warehouse may take no password (trust or peer authentication)
        out["the warehouse password"] = unquote(password)
    return out


def test_the_scan_finds_what_is_planted(tmp_path):
    """The scan can fail: a key, a name and an ID number planted in files (plain and JSON-escaped) are found."""
    needles = {"the HMAC key": "k3y-planted-for-the-self-check", "a name": "欧阳测试", "an ID number": "33080319650302001X"}
    (tmp_path / "task.log").write_text("connecting with key k3y-planted-for-the-self-check\n")
    (tmp_path / "run_results.json").write_text(json.dumps({"message": "欧阳测试 33080319650302001X"}))
    (tmp_path / "clean.log").write_text("nothing to see\n")
    assert sorted(scan(files_under(tmp_path), needles)) == [
        f"{tmp_path / 'run_results.json'}: a name", f"{tmp_path / 'run_results.json'}: an ID number",
        f"{tmp_path / 'task.log'}: the HMAC key"]
    assert scan({"stdout": b"key=k3y-planted-for-the-self-check"}, needles) == ["stdout: the HMAC key"]


@pytest.mark.slow
def test_a_night_and_a_dbt_run_log_no_secret_and_no_personal_data(empty_warehouse, run_dag, caplog, capfd,
                                                                    tmp_path):
    from lowincome.transform import run_dbt
    from lowincome.transform.project import run_dir

    cfg = empty_warehouse
    # Earlier code in the session (Airflow's db utilities) may leave logging.disable() raised or our loggers
    # disabled; the scan must see what the night logs, so logging is fully on here.
    logging.disable(logging.NOTSET)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("lowincome") and isinstance(logger, logging.Logger):
            logger.disabled = False
    caplog.set_level(logging.DEBUG)
    people = households(6)
    for i, row in enumerate(people, start=1):
        row["head_name"] = f"欧阳秀{'一二三四五六'[i - 1]}英"     # names no log line would hold by chance
    people[2]["head_id_number"] = people[2]["head_id_number"][:-1] + ("0" if people[2]["head_id_number"][-1] != "0"
                                                                      else "1")   # a wrong check digit
    landing = tmp_path / "landing"
    write_csv(landing / f"{COUNTY}_households_{YEAR}.csv", table(people, "households"))
    spoiled = incomes(6)
    spoiled[1]["net_income"] = 1.0
    write_csv(landing / f"{COUNTY}_household_income_{YEAR}.csv", table(spoiled, "household_income"))

    run = run_dag("ingest_county_submissions", {"landing_dir": str(landing)})
    assert str(getattr(run.state, "value", run.state)) == "success"
    # the bad ID number went through validation and was rejected (where a careless message would quote it);
    # the incomes, 2 of 6 rows bad (household 3 is not in the register), are rejected as a whole (over 20%)
    assert {r["template"]: (r["status"], r["rows_loaded"], r["rows_rejected"]) for r in rows(
        cfg, "select template, status, rows_loaded, rows_rejected from ops.submissions")} == {
        "households": ("loaded", 5, 1), "household_income": ("rejected", 0, 6)}
    run_dbt(cfg, ["run", "--select", "stg_raw__households"])

    out, err = capfd.readouterr()
    texts = {"stdout": out.encode(), "stderr": err.encode(),
             "log records": "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}"
                                      for r in caplog.records).encode()}
    texts.update(files_under(cfg.airflow_home))
    texts.update(files_under(cfg.data_dir, skip=ORIGINALS))
    texts.update(files_under(run_dir(cfg) / "logs"))
    texts.update(files_under(run_dir(cfg) / "target"))
    # what was scanned is what the run wrote: the DAG run's task output is among it (dag.test() sends the task
    # logs to stdout, where Airflow's logging setup puts them; our own loggers reach stdout or the records)
    seen = texts["stdout"] + texts["log records"]
    assert b"ingest_county_submissions" in seen and b"check_counties" in seen
    assert (run_dir(cfg) / "logs" / "dbt.log").is_file() and (run_dir(cfg) / "target" / "run_results.json").is_file()
    assert any(str(cfg.data_dir / "feedback") in name for name in texts)

    needles = secrets_of(cfg)
    for n, row in enumerate(people, start=1):
        needles[f"the head name of row {n}"] = row["head_name"]
        needles[f"the ID number of row {n}"] = row["head_id_number"]
    assert scan(texts, needles) == []
