"""Random damage to valid files: the readers either read them or refuse them with a reason, nothing else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fixtures.county_files import households, incomes, table, write_csv, write_xlsx
from fixtures.mutations import mutate, mutation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowincome.ingest import read
from lowincome.ingest.normalise import RowStream
from lowincome.ingest.pipeline import read_content
from lowincome.ingest.reasons import FileRejected
from lowincome.pseudonym import make_hasher


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    base = tmp_path_factory.mktemp("originals")
    csv_path = write_csv(base / "a.csv", table(households(8), "households"), encoding="gbk")
    xlsx_path = write_xlsx(base / "a.xlsx", [("说明", [["x"]]), ("数据", table(incomes(8), "household_income"))])
    return {".csv": csv_path.read_bytes(), ".xlsx": xlsx_path.read_bytes()}


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffix=st.sampled_from([".csv", ".xlsx"]), steps=st.lists(mutation, min_size=1, max_size=4))
def test_damaged_files_are_read_or_refused_never_crash(tmp_path, originals, suffix, steps):
    path = Path(tmp_path) / f"damaged{suffix}"
    path.write_bytes(mutate(originals[suffix], steps))
    try:
        rows = read_content(path, make_hasher("k"))
    except FileRejected as rejected:
        assert rejected.code in {"empty", "blank", "unreadable", "not_a_workbook", "encrypted", "zip_bomb",
                                 "too_many_columns", "no_template", "too_large"}
        assert rejected.reason
        return
    for row in rows:
        assert isinstance(row[0], int) and row[0] >= 1
        assert all(v is None or isinstance(v, str) for v in row[1:])


def test_a_nul_byte_in_a_cell_is_read_or_refused(tmp_path):
    lines = table(households(2), "households")
    lines[1][6] = "张\x00三"
    path = write_csv(tmp_path / "nul.csv", lines)
    try:
        rows = read_content(path, make_hasher("k"))
    except FileRejected as rejected:
        assert rejected.code == "unreadable"
    else:
        assert len(rows) == 2


def test_stream_is_lazy(tmp_path):
    """The rows come one by one: a reader that materialised the file would fail this bound."""
    path = write_csv(tmp_path / "big.csv", table(households(3000), "households"))
    tbl = read.open_table(path)
    try:
        rows = RowStream(tbl, make_hasher("k")).rows()
        first = next(rows)
        assert first[0] == 2
        assert isinstance(tbl.rest, io.TextIOBase) or hasattr(tbl.rest, "__next__")
    finally:
        tbl.close()
