"""Cells are bounded by the contract (issue 27, item 10).

A 3,500,000-character XLSX cell used to load into ``raw.villages`` (and on into ``warehouse.dim_village``);
a 900 KB CSV cell rejected its whole file as "CSV格式错误" (the csv module's 131,072-character field
limit). Now every column has a max_length from ``templates.yaml`` (per type, or its own), and a longer
cell rejects its ROW with the column and a Chinese reason, in CSV and XLSX alike; only a quoted field
longer than the reader's own bound rejects the file, saying so.
"""

from __future__ import annotations

from fixtures.county_files import table, villages, write_csv, write_xlsx
from fixtures.ingest_support import feedback_lines, ingest, rejected_rows, rows, submission

TOO_LONG = "“行政村”内容过长（超过200个字符），请核对后重新填写"


def village_rows(county: str, long_name: str) -> list[list]:
    found = villages(6, county=county)
    found[2]["village_name"] = long_name        # the third data row: row 4 of the file
    return table(found, "villages")


def test_an_overlong_cell_rejects_its_row_in_xlsx_and_csv(empty_warehouse):
    cfg = empty_warehouse
    write_xlsx(cfg.landing_dir / "330802_villages_2014.xlsx", [("村", village_rows("330802", "村" * 3_500_000))])
    write_csv(cfg.landing_dir / "330803_villages_2014.csv", village_rows("330803", "x" * 900_000))
    assert (cfg.landing_dir / "330803_villages_2014.csv").stat().st_size > 900_000

    outcomes = ingest(cfg)

    for name in ("330802_villages_2014.xlsx", "330803_villages_2014.csv"):
        assert (outcomes[name].status, outcomes[name].rows_loaded, outcomes[name].rows_rejected) == ("loaded", 5, 1)
        sub = submission(cfg, name)
        [bad] = rejected_rows(cfg, sub["id"])
        assert (bad["row_number"], bad["column_name"], bad["rule"], bad["reason"]) == (
            4, "village_name", "too_long", TOO_LONG)
        fed = [line for line in feedback_lines(cfg, name) if line[1] == "4"]
        assert [(line[2], line[4], line[5]) for line in fed] == [("行政村", TOO_LONG, "该行退回")]
        assert len(fed[0][3]) == 101 and fed[0][3].endswith("…")   # the value is shown cut, not 3.5 million long
    assert rows(cfg, "select max(length(village_name)) as n from raw.villages") == [{"n": 3}]


def test_a_quoted_field_longer_than_the_reader_takes_rejects_the_file_saying_so(empty_warehouse):
    from lowincome.ingest.read import MAX_FIELD_CHARS

    cfg = empty_warehouse
    lines = village_rows("330804", "placeholder")
    lines[3][3] = "\n".join(["村" * 400_000] * 3)   # one cell over three lines, each under the line cap
    write_csv(cfg.landing_dir / "330804_villages_2014.csv", lines)
    outcomes = ingest(cfg)
    sub = submission(cfg, "330804_villages_2014.csv")
    assert outcomes["330804_villages_2014.csv"].status == "rejected"
    assert (sub["reason_code"], sub["reason"]) == (
        "unreadable", f"文件无法读取（第4行有单元格超过{MAX_FIELD_CHARS}个字符），请用Excel重新导出为.xlsx或.csv后上报")


def test_every_column_has_a_bound_the_csv_reader_lets_through():
    from lowincome.ingest.read import MAX_FIELD_CHARS, MAX_LINE_CHARS
    from lowincome.templates import contract

    con = contract()
    assert set(con.max_length) == {"code", "enum", "bool", "int", "year", "money", "number", "date", "text"}
    columns = [c for t in con.templates.values() for c in t.columns]
    assert all(0 < c.max_length == con.max_length[c.type] or c.name == "head_name" for c in columns)
    assert con.longest_cell < MAX_FIELD_CHARS <= MAX_LINE_CHARS
