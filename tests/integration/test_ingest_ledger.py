"""Exactly once: duplicates, supersede, the accounting invariant, one bad file, the CLI and the status."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fixtures.county_files import COUNTY, households, incomes, table, write_csv
from fixtures.ingest_support import accounting_holds, feedback_lines, ingest, rows, submission, value

from lowincome.ingest import read


def fingerprint(cfg) -> dict:
    """raw and ledger contents, ids left out (sequences move on even when nothing is kept)."""
    out = {}
    for tpl in ("households", "household_income"):
        out[tpl] = value(cfg, f"""select md5(coalesce(string_agg((to_jsonb(t) - '_submission_id')::text, '|'
                                  order by t.county_code, t.year, t._source_row), ''))
                                  from raw.{tpl} t""")
    out["ledger"] = rows(cfg, """select file_name, sha256, county_code, template, year, status, rows_read, rows_loaded,
                                        rows_rejected, rows_warned, reason_code from ops.submissions
                                 where status <> 'duplicate' order by file_name""")
    out["rejected"] = value(cfg, "select count(*) from ops.rejected_rows")
    return out


def test_the_same_folder_twice_changes_nothing(empty_warehouse, tmp_path):
    cfg = empty_warehouse
    batch = tmp_path / "night"
    write_csv(batch / "330803_households_2014.csv", table(households(6), "households"))
    bad = incomes(6)
    bad[2]["wage_income"] = -5.0
    write_csv(batch / "330803_household_income_2014.csv", table(bad, "household_income"))
    (batch / "empty.csv").write_bytes(b"")
    shutil.copytree(batch, cfg.landing_dir)
    first = ingest(cfg)
    assert {n: o.status for n, o in first.items()} == {
        "330803_households_2014.csv": "loaded", "330803_household_income_2014.csv": "loaded", "empty.csv": "rejected"}
    before = fingerprint(cfg)
    shutil.copytree(batch, cfg.landing_dir, dirs_exist_ok=True)
    second = ingest(cfg)
    # the accepted files are duplicates; the rejected one is checked again, and rejected again
    assert {n: (o.status, o.reason_code, o.rows_loaded) for n, o in second.items()} == {
        "330803_households_2014.csv": ("duplicate", "duplicate", 0),
        "330803_household_income_2014.csv": ("duplicate", "duplicate", 0), "empty.csv": ("rejected", "empty", 0)}
    after = fingerprint(cfg)
    [again] = [r for r in after["ledger"] if r["file_name"] == "empty.csv"][1:]
    after["ledger"].remove(again)
    assert after == before
    for name, o in second.items():
        if o.status != "duplicate":
            continue
        dup = rows(cfg, "select duplicate_of, reason from ops.submissions where id = %s", (o.submission_id,))[0]
        assert dup["duplicate_of"] == first[name].submission_id
        assert dup["reason"] == f"该文件与已接收的文件（接收编号{first[name].submission_id}）内容完全相同，已按重复文件登记，无需再次上报"
    assert list(cfg.landing_dir.iterdir()) == []
    accounting_holds(cfg)


def test_a_newer_file_supersedes_and_both_stay_on_record(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "v1.csv", table(households(3), "households"))
    first = ingest(cfg)["v1.csv"]
    write_csv(land / "v2.csv", table(households(5), "households"))
    second = ingest(cfg)["v2.csv"]
    assert second.superseded == [first.submission_id]
    assert rows(cfg, "select id, status, superseded_by from ops.submissions order by id") == [
        {"id": first.submission_id, "status": "superseded", "superseded_by": second.submission_id},
        {"id": second.submission_id, "status": "loaded", "superseded_by": None}]
    assert rows(cfg, "select _submission_id, count(*) as n from raw.households group by 1 order by 1") == [
        {"_submission_id": first.submission_id, "n": 3}, {"_submission_id": second.submission_id, "n": 5}]
    # a rejected resubmission does not displace the accepted file
    (land / "v3.csv").write_text("县代码,年度\n", encoding="utf-8")
    third = ingest(cfg)["v3.csv"]
    assert third.status == "rejected"
    assert submission(cfg, "v2.csv")["status"] == "loaded"
    # a later file for another year supersedes nothing
    write_csv(land / "y2015.csv", table(households(2, year=2015), "households"))
    assert ingest(cfg)["y2015.csv"].superseded == []
    accounting_holds(cfg)


def test_rows_read_is_loaded_plus_rejected_and_every_rejected_row_is_listed(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "hh.csv", table(households(10), "households"))
    ingest(cfg)
    inc = incomes(10)
    inc[1]["net_income"] = 1.0                       # components do not sum
    inc[4]["household_id"] = "H99999"                # not in the register
    write_csv(land / "inc.csv", table(inc, "household_income"))
    o = ingest(cfg)["inc.csv"]
    assert (o.status, o.rows_read, o.rows_loaded, o.rows_rejected) == ("loaded", 10, 8, 2)
    assert rows(cfg, "select row_number, column_name, rule from ops.rejected_rows where submission_id = %s "
                     "order by row_number", (o.submission_id,)) == [
        {"row_number": 3, "column_name": "net_income", "rule": "income_components_sum"},
        {"row_number": 6, "column_name": "household_id", "rule": "household_in_register"}]
    lines = feedback_lines(cfg, "inc.csv")
    assert lines[1][4].startswith("文件已接收：读入10行，入库8行，退回2行")
    assert [line[1] for line in lines[2:]] == ["3", "6"]
    assert value(cfg, "select count(*) from ops.validation_runs where submission_id = %s", (o.submission_id,)) == 1
    failing = rows(cfg, "select expectation, column_name, severity, unexpected_count from ops.validation_results "
                        "where submission_id = %s and not success order by 1", (o.submission_id,))
    assert failing[:2] == [
        {"expectation": "household_in_register", "column_name": "household_id", "severity": "reject_row",
         "unexpected_count": 1},
        {"expectation": "income_components_sum", "column_name": "net_income", "severity": "reject_row",
         "unexpected_count": 1}]
    accounting_holds(cfg)


def test_one_bad_file_never_stops_the_others(empty_warehouse, monkeypatch, caplog):
    cfg = empty_warehouse
    land = cfg.landing_dir
    for i, county in enumerate(("330803", "330802", "330822")):
        write_csv(land / f"{county}_households_2014.csv", table(households(3, county=county, start=10 * i), "households"))
    real = read._open_csv

    def crashing_reader(path: Path):
        if path.name.startswith("330802"):
            raise IndexError("a reader bug quoting a cell: 330802196503020011")
        return real(path)

    monkeypatch.setattr(read, "_open_csv", crashing_reader)
    outcomes = ingest(cfg)
    assert {n: (o.status, o.reason_code) for n, o in outcomes.items()} == {
        "330803_households_2014.csv": ("loaded", None),
        "330802_households_2014.csv": ("rejected", "unreadable"),
        "330822_households_2014.csv": ("loaded", None)}
    assert outcomes["330802_households_2014.csv"].reason == "文件无法读取（文件内容无法解析），请用Excel重新导出为.xlsx或.csv后上报"
    assert "IndexError" in caplog.text and "330802196503020011" not in caplog.text   # no cell values in logs


def test_an_unexpected_error_leaves_the_file_for_the_next_run(empty_warehouse, monkeypatch):
    from lowincome.ingest import load

    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "a.csv", table(households(2), "households"))
    write_csv(land / "b.csv", table(households(2, county="330802"), "households"))

    def fail_for_b(conn, item):
        if item.file_name == "b.csv":
            raise RuntimeError("disk full")

    monkeypatch.setattr(load, "_before_commit", fail_for_b)
    outcomes = ingest(cfg)
    assert (outcomes["a.csv"].status, outcomes["b.csv"].status) == ("loaded", "error")
    assert outcomes["b.csv"].reason == "RuntimeError: disk full"
    assert [p.name for p in land.iterdir()] == ["b.csv"]
    assert value(cfg, "select count(*) from ops.submissions") == 1
    monkeypatch.setattr(load, "_before_commit", None)
    assert ingest(cfg)["b.csv"].status == "loaded"
    assert value(cfg, "select count(*) from ops.load_tables") == 0
    accounting_holds(cfg)


def test_cli_ingest_and_status(empty_warehouse, capsys):
    from lowincome.cli import main

    cfg = empty_warehouse
    folder = cfg.data_dir / "incoming"
    write_csv(folder / "330803_households_2014.csv", table(households(3), "households"))
    (folder / "330803_villages_2014.xlsx").write_bytes(b"not a workbook")
    assert main(["ingest", str(folder), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "330803_households_2014.csv" in printed and "loaded" in printed
    assert "not_a_workbook: 文件扩展名是Excel" in printed
    assert "2 files: 1 loaded, 1 rejected; rows loaded 3, rejected 0" in printed
    assert main(["status", "--county", "衢江区", "--year", "2014"]) == 0
    report = capsys.readouterr().out
    assert report.splitlines()[0] == "Ledger for 330803 衢江区 in 2014: 2 files received (1 loaded, 1 rejected)"
    assert "households" in report and "#1 330803_households_2014.csv" in report
    assert "Missing (no accepted file yet):" in report
    assert f"2014 {'household_income':<22} 衢江区" in report
    assert "Rejected files and why:" in report and "not_a_workbook" in report
    assert main(["status"]) == 0
    assert f"2014 {'households':<22} 84 of 85 counties (received only from 衢江区)" in capsys.readouterr().out


def test_status_expects_project_funds_from_2013_only(empty_warehouse, capsys):
    """The reporting calendar says when a template is due: project_funds (公告公示) from 2013, the plan's first year."""
    from lowincome.cli import main

    cfg = empty_warehouse
    folder = cfg.data_dir / "incoming"
    write_csv(folder / "330803_households_2012.csv",
              table([r | {"identified_year": 2011} for r in households(3, year=2012)], "households"))
    write_csv(folder / "330803_households_2013.csv", table(households(3, year=2013), "households"))
    assert main(["ingest", str(folder), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["status", "--county", "330803"]) == 0
    report = capsys.readouterr().out
    assert f"2013 {'project_funds':<22} 衢江区" in report
    assert f"2012 {'project_funds':<22}" not in report and f"2012 {'household_income':<22} 衢江区" in report


@pytest.mark.parametrize("county", [COUNTY])
def test_status_on_an_empty_ledger(empty_warehouse, county):
    from lowincome.ingest.account import status_report
    from lowincome.ingest.pipeline import connect

    with connect(empty_warehouse) as conn:
        assert status_report(conn, county=county).startswith("Ledger for 330803 衢江区: no files received yet")


def test_a_file_rejected_for_its_name_can_be_resent_under_the_right_name(empty_warehouse):
    cfg = empty_warehouse
    lines = table(households(3), "households")
    write_csv(cfg.landing_dir / "330803_households_2013.csv", lines)
    assert ingest(cfg)["330803_households_2013.csv"].reason_code == "year_mismatch"
    write_csv(cfg.landing_dir / "330803_households_2014.csv", lines)        # the same bytes, renamed
    assert ingest(cfg)["330803_households_2014.csv"].status == "loaded"
