"""The record of one file between the ingest DAG's tasks: a plain JSON dict in XCom, typed on either side."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lowincome.ingest.record import FileRecord


def parsed_record() -> FileRecord:
    return FileRecord(
        path="/data/landing/330803_households_2014.xlsx", file_name="330803_households_2014.xlsx",
        sha256="ab" * 32, size_bytes=52_431, archive_path="/data/archive/ab/abab.xlsx", received_on="2026-12-07",
        sidecars=("/data/landing/330803_households_2014.上报说明.txt",), explanation="两户迁出", order=3,
        template="households", county_code="330803", year=2014, source_format="xlsx", source_sheet="Sheet1",
        source_encoding=None, header_row=2, columns=("household_id", "head_name", "_household_key"),
        load_table="load_4f2a", rows_read=120,
        warnings=({"row": 2, "column": "备注", "rule": "unknown_column", "reason": "未知列“备注”，已忽略"},),
        seconds=0.412)


def test_the_record_survives_xcom_as_json():
    record = parsed_record()
    sent = json.loads(json.dumps(record.to_xcom()))   # what an XCom backend stores: JSON
    assert FileRecord.from_xcom(sent) == record
    assert sent["columns"] == ["household_id", "head_name", "_household_key"]   # plain JSON types only
    rejected = record.replace(rejection={"code": "no_year", "reason": "没有年份"}, validated=True)
    assert FileRecord.from_xcom(json.loads(json.dumps(rejected.to_xcom()))) == rejected
    assert rejected.rejected and not record.rejected


def test_every_field_crosses_the_boundary():
    assert set(parsed_record().to_xcom()) == {f.name for f in dataclasses.fields(FileRecord)}


def test_a_missing_or_unknown_key_fails_loudly():
    sent = parsed_record().to_xcom()
    without = {k: v for k, v in sent.items() if k != "load_table"}
    with pytest.raises(ValueError, match="missing load_table"):
        FileRecord.from_xcom(without)
    with pytest.raises(ValueError, match="unknown loadtable"):
        FileRecord.from_xcom({**without, "loadtable": "load_4f2a"})   # a renamed key is not defaulted
    with pytest.raises(ValueError, match="missing validated; unknown is_validated"):
        FileRecord.from_xcom({**{k: v for k, v in sent.items() if k != "validated"}, "is_validated": True})
    with pytest.raises(ValueError, match="kind"):
        FileRecord.from_xcom({**sent, "kind": "parsd"})
    with pytest.raises(ValueError, match="columns must be a list"):
        FileRecord.from_xcom({**sent, "columns": "household_id"})
    with pytest.raises(TypeError):
        FileRecord.from_xcom([sent])


def test_the_record_is_frozen():
    record = parsed_record()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.year = 2015  # type: ignore[misc]
    assert record.replace(year=2015).year == 2015 and record.year == 2014
