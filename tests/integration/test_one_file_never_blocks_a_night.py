"""A night is never blocked by one file (issue 27, items 2, 4, 5 and 11), through the CLI's runner.

Whatever happens to one file is that file's outcome in the ledger, with feedback to the county that sent
it; the other files and counties go on. What fails for a file after its ledger row committed (the
quarantine copy, the feedback, clearing landing) leaves the file in landing, and the next run finishes it.
The same attacks through the nightly DAG: tests/dags/test_ingest_dag_one_file.py.
"""

from __future__ import annotations

from fixtures.county_files import households, incomes, table, villages, write_csv
from fixtures.ingest_support import accounting_holds, feedback_lines, ingest, rows, submission

from lowincome.ingest.account import format_outcomes
from lowincome.ingest.pipeline import (
    load_batch,
    parse_batch,
    plan_batches,
    release_lock,
    split_waves,
    validate_batch,
)

LONG_NAME = "衢" * 83 + ".csv"          # 253 bytes in UTF-8: a legal name on every Linux filesystem


def test_a_long_legal_name_is_rejected_quarantined_and_fed_back(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    land.mkdir(parents=True)
    assert len(LONG_NAME.encode()) == 253
    (land / LONG_NAME).write_bytes(b"")
    write_csv(land / "330802_households_2014.csv", table(households(3, county="330802"), "households"))
    outcomes = ingest(cfg)
    assert {n: (o.status, o.reason_code) for n, o in outcomes.items()} == {
        LONG_NAME: ("rejected", "empty"), "330802_households_2014.csv": ("loaded", None)}
    assert list(land.iterdir()) == []
    [quarantined] = [p for p in cfg.quarantine_dir.iterdir() if not p.name.endswith(".reason.txt")]
    assert quarantined.name.startswith(submission(cfg, LONG_NAME)["sha256"][:12] + "_衢衢衢")
    assert len(quarantined.name.encode()) < 255 - len(".reason.txt")
    assert LONG_NAME in (cfg.quarantine_dir / (quarantined.name + ".reason.txt")).read_text(encoding="utf-8")
    assert feedback_lines(cfg, LONG_NAME)[1][0] == LONG_NAME
    assert ingest(cfg) == {}                 # nothing left for the next night
    accounting_holds(cfg)


def test_a_file_left_by_a_failed_copy_is_finished_by_the_next_night(empty_warehouse):
    """A regular file where the quarantine folder belongs, and one where a county's feedback folder
    belongs: real filesystem conditions that fail the copies (even for root) after the ledger committed."""
    cfg = empty_warehouse
    land = cfg.landing_dir
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    cfg.quarantine_dir.write_bytes(b"not a folder")
    (cfg.feedback_dir).mkdir(parents=True)
    (cfg.feedback_dir / "330822").write_bytes(b"not a folder")
    land.mkdir(parents=True)
    (land / "330802_villages_2014.xlsx").write_bytes(b"junk")                      # rejected: quarantine fails
    write_csv(land / "330822_households_2014.csv", table(households(3, county="330822"), "households"))
    write_csv(land / "330803_households_2014.csv", table(households(4), "households"))
    write_csv(land / "330803_household_income_2014.csv", table(incomes(4), "household_income"))
    first = ingest(cfg)
    assert {n: (o.status, o.rows_loaded, bool(o.unfinished)) for n, o in first.items()} == {
        "330802_villages_2014.xlsx": ("rejected", 0, True),
        "330822_households_2014.csv": ("loaded", 3, True),
        "330803_households_2014.csv": ("loaded", 4, False),
        "330803_household_income_2014.csv": ("loaded", 4, False)}
    assert "the next run finishes it" in first["330822_households_2014.csv"].unfinished
    printed = format_outcomes(list(first.values())).splitlines()
    assert printed[-3] == "2 file(s) recorded in the ledger but still in landing (the next run finishes them):"
    assert printed[-1].startswith("  330822_households_2014.csv: feedback failed: ")
    assert sorted(p.name for p in land.iterdir()) == ["330802_villages_2014.xlsx", "330822_households_2014.csv"]
    assert rows(cfg, "select file_name from ops.submissions where cleared_at is null order by 1") == [
        {"file_name": "330802_villages_2014.xlsx"}, {"file_name": "330822_households_2014.csv"}]
    accounting_holds(cfg)

    # the same obstacles the next night: the files stay, nothing is recorded twice, nothing fails
    again = ingest(cfg)
    assert {n: (o.status, bool(o.unfinished)) for n, o in again.items()} == {
        "330802_villages_2014.xlsx": ("rejected", True), "330822_households_2014.csv": ("loaded", True)}

    # the operator clears the obstacles: the next night finishes both files, records nothing new
    cfg.quarantine_dir.unlink()
    (cfg.feedback_dir / "330822").unlink()
    third = ingest(cfg)
    assert {n: (o.status, o.unfinished) for n, o in third.items()} == {
        "330802_villages_2014.xlsx": ("rejected", None), "330822_households_2014.csv": ("loaded", None)}
    assert list(land.iterdir()) == []
    assert rows(cfg, "select count(*) as n, count(cleared_at) as cleared from ops.submissions") == [
        {"n": 4, "cleared": 4}]
    assert [p.name for p in cfg.quarantine_dir.iterdir() if p.name.endswith("villages_2014.xlsx")]
    assert feedback_lines(cfg, "330822_households_2014.csv")[1][5] == "已入库"
    accounting_holds(cfg)


def test_the_same_register_under_two_names_in_one_night(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    register = table(households(6, year=2013), "households")
    write_csv(land / "330803_households_2013.csv", register)
    write_csv(land / "衢江区2013年低收入农户登记表.csv", register)
    write_csv(land / "330803_household_income_2013.csv", table(incomes(6, year=2013), "household_income"))
    outcomes = ingest(cfg)
    statuses = {n: (o.status, o.rows_loaded, o.rows_rejected) for n, o in outcomes.items()}
    assert sorted(statuses.values()) == [("duplicate", 0, 0), ("loaded", 6, 0), ("loaded", 6, 0)]
    assert statuses["330803_household_income_2013.csv"] == ("loaded", 6, 0)
    [dup] = [o for o in outcomes.values() if o.status == "duplicate"]
    [original] = [o for o in outcomes.values() if o.status == "loaded" and o.template == "households"]
    assert rows(cfg, "select duplicate_of from ops.submissions where id = %s", (dup.submission_id,)) == [
        {"duplicate_of": original.submission_id}]
    assert list(land.iterdir()) == []
    accounting_holds(cfg)


def test_the_same_register_under_two_names_through_the_dags_tasks(empty_warehouse):
    """The DAG's task functions in the DAG's order (the whole DAG: tests/dags/test_ingest_dag_one_file.py).
    The copy recorded duplicate had no load token, so the second wave waited for it in vain."""
    cfg = empty_warehouse
    land = cfg.landing_dir
    register = table(households(6, year=2013), "households")
    write_csv(land / "330803_households_2013.csv", register)
    write_csv(land / "衢江区2013年低收入农户登记表.csv", register)
    write_csv(land / "330803_household_income_2013.csv", table(incomes(6, year=2013), "household_income"))
    batches = plan_batches("manual__twice", cfg=cfg)
    try:
        assert [b["county"] for b in batches] == ["330803"]
        waves = split_waves(batches, [parse_batch(b, cfg) for b in batches])
        outcomes = [o for wave in ("registers", "dependents") for county in waves[wave]
                    for o in load_batch(validate_batch(county, cfg), cfg)["outcomes"]]
    finally:
        release_lock("manual__twice", cfg)
    assert sorted((o["template"], o["status"], o["rows_loaded"]) for o in outcomes) == [
        ("household_income", "loaded", 6), ("households", "duplicate", 0), ("households", "loaded", 6)]
    assert list(land.iterdir()) == []
    accounting_holds(cfg)


def test_a_file_rejected_for_a_reason_outside_itself_can_be_resent(empty_warehouse):
    """Night 1: the register is incomplete, so the income file is rejected (too many households not in
    it). Night 2: the full register, and the identical income file again: it is validated afresh and loads."""
    cfg = empty_warehouse
    land = cfg.landing_dir
    income = table(incomes(6), "household_income")
    write_csv(land / "330803_households_2014.csv", table(households(2), "households"))
    write_csv(land / "330803_household_income_2014.csv", income)
    night1 = ingest(cfg)["330803_household_income_2014.csv"]
    assert (night1.status, night1.reason_code) == ("rejected", "too_many_bad_rows")
    write_csv(land / "330803_households_2014_完整.csv", table(households(6), "households"))
    write_csv(land / "330803_household_income_2014.csv", income)         # the same bytes, the same name
    night2 = ingest(cfg)["330803_household_income_2014.csv"]
    assert (night2.status, night2.rows_loaded, night2.rows_rejected) == ("loaded", 6, 0)
    assert night2.submission_id != night1.submission_id
    assert rows(cfg, "select status, reason_code, duplicate_of from ops.submissions where file_name = %s order by id",
                ("330803_household_income_2014.csv",)) == [
        {"status": "rejected", "reason_code": "too_many_bad_rows", "duplicate_of": None},
        {"status": "loaded", "reason_code": None, "duplicate_of": None}]
    told = feedback_lines(cfg, "330803_household_income_2014.csv")[1]
    assert told[4].startswith("文件已接收：读入6行，入库6行") and "无需再次上报" not in told[4]
    # a copy of the now accepted file is a duplicate
    write_csv(land / "再次上报.csv", income)
    assert ingest(cfg)["再次上报.csv"].status == "duplicate"
    accounting_holds(cfg)


def test_a_file_rejected_for_its_own_bytes_is_validated_again_and_told_again(empty_warehouse):
    """The rule is simple: any earlier rejection means the bytes are checked again (the rules may have
    changed since); junk is then rejected again with its own reason, never told it is a duplicate."""
    cfg = empty_warehouse
    (cfg.landing_dir).mkdir(parents=True)
    (cfg.landing_dir / "a.xlsx").write_bytes(b"junk")
    first = ingest(cfg)["a.xlsx"]
    (cfg.landing_dir / "b.xlsx").write_bytes(b"junk")
    (cfg.landing_dir / "a.xlsx").write_bytes(b"junk")
    again = ingest(cfg)
    assert {n: (o.status, o.reason_code) for n, o in again.items()} == {
        "a.xlsx": ("rejected", "not_a_workbook"), "b.xlsx": ("rejected", "not_a_workbook")}
    assert again["a.xlsx"].submission_id != first.submission_id
    assert feedback_lines(cfg, "b.xlsx")[1][5] == "整个文件退回"
    accounting_holds(cfg)


def test_feedback_on_a_file_naming_another_county_goes_to_the_sender(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "330803_villages_2014.csv", table(villages(3, county="330802"), "villages"))
    outcome = ingest(cfg)["330803_villages_2014.csv"]
    assert (outcome.status, outcome.reason_code) == ("rejected", "name_contradicts_content")
    assert [p.parent.name for p in cfg.feedback_dir.rglob("*") if p.is_file()] == ["330803"]
    assert not (cfg.feedback_dir / "330802").exists()
    assert feedback_lines(cfg, "330803_villages_2014.csv")[1][4].startswith("文件名与文件内容不一致")
    # a name that names no county: the feedback goes to the county of the content
    write_csv(land / "村级台账.csv", table(villages(3, county="330802"), "villages"))
    ingest(cfg)
    assert submission(cfg, "村级台账.csv")["feedback_path"].split("/")[-2] == "330802"
    accounting_holds(cfg)
