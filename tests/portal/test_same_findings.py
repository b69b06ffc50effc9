"""The portal's 审核 tells a clerk exactly what the night's feedback file will say about the same file."""

from __future__ import annotations

import psycopg
import pytest
from fixtures.ingest_support import feedback_lines, ingest
from portal_support import drop_into, households_rejected, households_with_errors, relocations_with_warning

from lowincome.portal.checking import as_feedback_lines, check


def _cells(lines):
    return [["" if v is None else str(v) for v in line] for line in lines]


def _same(cfg, source, explanation=None):
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        before = conn.execute("select count(*) from ops.submissions").fetchone()[0]
        portal = check(cfg, source, explanation=explanation)
        assert conn.execute("select count(*) from ops.submissions").fetchone()[0] == before, "no ledger row"
        assert conn.execute("select count(*) from ops.load_tables").fetchone()[0] == 0, "load table dropped"
        assert conn.execute("select count(*) from raw.households").fetchone()[0] == 0 or before
    assert before or not cfg.archive_dir.exists(), "the check archives nothing into $DATA/archive"
    assert before or not (cfg.data_dir / "gx").exists(), "nor stores a GX result beside the night's"
    assert not any(p.is_file() for p in (cfg.data_dir / "portal" / "checks" / "archive").rglob("*"))
    drop_into(cfg.landing_dir, source, explanation)
    outcomes = ingest(cfg)
    assert source.name in outcomes
    night = feedback_lines(cfg, source.name)[1:]   # without the header
    assert _cells(as_feedback_lines(portal)) == _cells(night)
    return portal


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rejected_rows_are_the_nights(empty_warehouse, tmp_path, suffix):
    cfg = empty_warehouse
    source = households_with_errors(tmp_path / f"330803_households_2014{suffix}")
    portal = _same(cfg, source)
    assert portal["template"] == "households" and portal["year"] == 2014 and portal["rows_read"] == 10
    assert portal["verdict"] == "loaded"
    assert sorted(f["row"] for f in portal["findings"] if f["severity"] == "reject_row") == [4, 6]


def test_a_file_rejected_whole_is_the_nights(empty_warehouse, tmp_path):
    cfg = empty_warehouse
    portal = _same(cfg, households_rejected(tmp_path / "330803_households_2014.csv"))
    assert portal["verdict"] == "rejected" and portal["reject_file"]


def test_warnings_and_an_explanation_are_the_nights(empty_warehouse, tmp_path):
    cfg = empty_warehouse
    first = _same(cfg, relocations_with_warning(tmp_path / "330803_relocations_2014.csv"))
    assert any(f["severity"] == "warn" for f in first["findings"])
    assert first["warnings"] > 0
    again = tmp_path / "again"
    again.mkdir()
    second = relocations_with_warning(again / "330803_relocations_2014_更正.csv")
    second.write_bytes(second.read_bytes() + b"\r\n")   # other bytes, the same rows
    forced = _same(cfg, second, explanation="该户为地质灾害隐患搬迁，补助经县政府批准")
    assert forced["warnings"] == 0
    assert any(f["action"] == "提示（已说明）" for f in forced["findings"])


def test_files_the_night_cannot_read_are_told_the_same(empty_warehouse, tmp_path):
    from fixtures.county_files import households, table, write_csv

    cfg = empty_warehouse
    rows = households(4)
    missing = write_csv(tmp_path / "330803_households_2014.csv",
                        table(rows, "households", columns=[c for c in rows[0] if c != "household_size"]))
    portal = _same(cfg, missing)
    assert portal["verdict"] == "rejected" and "家庭人口" in portal["summary"]
    junk = tmp_path / "j" / "330803_villages_2014.xlsx"
    junk.parent.mkdir()
    junk.write_bytes(b"this is not a workbook at all" * 10)
    assert _same(cfg, junk)["verdict"] == "rejected"


def test_a_copy_of_an_accepted_file_is_told_the_same(empty_warehouse, tmp_path):
    cfg = empty_warehouse
    first = households_with_errors(tmp_path / "330803_households_2014.csv", bad=False)
    assert _same(cfg, first)["verdict"] == "loaded"
    copy = tmp_path / "c" / "330803_households_2014_copy.csv"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    assert _same(cfg, copy)["verdict"] == "duplicate"
