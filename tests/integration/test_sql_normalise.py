"""The SQL normaliser prototype (benchmarks/sql_normalise.py) produces exactly the Python normaliser's rows.

Issue 26.5's design (PostgreSQL parses the CSV and normalises set-based) is a candidate only if it loads
the same rows: generated CSV files with the ``--messy`` faults (full-width digits, thousands separators,
spaces, blank and total rows, a GBK file, IDs as floats, …) go both ways into load tables, and every
row (source row number, every normalised value, both pseudonyms) and every tally the ingestion keeps
must be equal, with the speed-ups on and off.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from benchmarks.sql_normalise import differences, python_rows, sql_rows
from lowincome.generator import generate
from lowincome.ingest.reasons import FileRejected

KEY = "test-key-for-sql-normalise"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
COUNTIES = ["330327", "330802", "330881"]


@pytest.fixture(scope="module")
def messy_csvs(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy")
    generate(out, years=[2013], scale=0.01, seed=7, counties=COUNTIES, fmt="csv", messy=True)
    faults = json.loads((out / "_faults.json").read_text())
    return out, faults


def _add_hand_faults(path, target, encoding="utf-8", unit_row=False):
    """A copy of a households file with cells only a county's hand makes: thousands separators, full-width
    digits and comma (the generator's full-width fault lands in a workbook), spaces (ASCII, ideographic,
    no-break, tab) around values, an ID number ending in a lower-case x, a 合计 row
    whose first cell is blank, a signature footer; with ``unit_row`` a 单位 row under the header."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, data = rows[0], rows[1:]
    at = {name: i for i, name in enumerate(header)}
    size = next(i for name, i in at.items() if "人口" in name or "人数" in name)
    ident = next(i for name, i in at.items() if "身份证" in name)
    data[0][size] = "1,234"
    data[1][size] = " 12,345,678 "
    data[2][0] = "\u3000" + data[2][0] + "\xa0"
    data[3][ident] = data[3][ident][:-1] + "x"
    data[4][size] = "1,23"          # not a thousands shape: stays as it is (validation rejects it)
    village = next(i for name, i in at.items() if "村" in name and "码" in name)
    data[5][village] = data[5][village].translate(FULL_WIDTH)          # ３３０３２７…
    data[6][size] = "\uff11\uff0c\uff12\uff13\uff14"                         # １，２３４: full-width comma too
    data[7][size] = "\t3 "
    data.append([""] + ["合计"] + [""] * (len(header) - 2))
    data.append(["填表人：张三"] + [""] * (len(header) - 1))
    data.append([" "] * len(header))
    units = [["单位：人、户"] + [""] * (len(header) - 1)] if unit_row else []
    with target.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([header, *units, *data])
    return target


def test_sql_way_loads_the_python_ways_rows(conn, messy_csvs, tmp_path):
    out, faults = messy_csvs
    conn.execute("create schema if not exists sqlnorm_test")
    files = sorted(out.glob("*.csv"))
    households = [p for p in files if "_households_" in p.name]
    hand = [_add_hand_faults(households[0], tmp_path / f"{households[0].stem}_hand.csv"),
            _add_hand_faults(households[-1], tmp_path / f"{households[-1].stem}_hand_gbk.csv", "gb18030", unit_row=True)]
    files += hand
    reached = []
    for path in files:
        try:
            got = sql_rows(conn, path, KEY, "sqlnorm_test.sql_way")
        except FileRejected:   # rejected whole before any row is read (empty, no template): no rows either way
            with pytest.raises(FileRejected):
                python_rows(conn, path, KEY, "sqlnorm_test.python_way")
            continue
        if got is None:
            continue
        ref = python_rows(conn, path, KEY, "sqlnorm_test.python_way")
        assert got.tallies() == ref.tallies(), path.name
        if path in hand:
            assert (ref.not_data, ref.blank, ref.unit_rows) == (2, 1, int("gbk" in path.name)), path.name
        diff = differences(conn, got, ref)
        assert diff == {"only_a": 0, "only_b": 0, "rows_a": ref.rows_read, "rows_b": ref.rows_read}, path.name
        reached.append(path.name)
    # every households CSV (the register: IDs as floats, bad check digits, a repeated household …) and the
    # hand-made faults (one file in GB18030) are reached
    assert {p.name for p in households + hand} <= set(reached), reached
    kinds = {f["kind"] for f in faults if f["file"] in reached}
    assert {"id_as_float_csv", "bad_check_digit", "duplicate_household_id"} <= kinds
    conn.execute("drop schema sqlnorm_test cascade")


def test_a_difference_is_found(conn, messy_csvs):
    """The comparison can fail: one value changed in the SQL way's table is one row on each side."""
    out, _faults = messy_csvs
    conn.execute("create schema if not exists sqlnorm_test2")
    path = next(p for p in sorted(out.glob("*.csv")) if "_households_" in p.name)
    got = sql_rows(conn, path, KEY, "sqlnorm_test2.sql_way")
    ref = python_rows(conn, path, KEY, "sqlnorm_test2.python_way")
    assert differences(conn, got, ref)["only_a"] == 0
    conn.execute("update sqlnorm_test2.sql_way set household_size = household_size || '0' "
                 "where _source_row = (select min(_source_row) from sqlnorm_test2.sql_way)")
    assert differences(conn, got, ref) == {"only_a": 1, "only_b": 1, "rows_a": ref.rows_read, "rows_b": ref.rows_read}
    conn.execute("drop schema sqlnorm_test2 cascade")
