"""The project and fund list (project_funds, 公告公示) through ingestion: generated files, one named
``code_template_year`` (GBK CSV, amounts in 万元, sources written 省级财政) and one named by its Chinese
title (XLSX with title and unit rows), are recognised, loaded in yuan, validated (a project disbursing
more than its allocation is rejected with the Chinese reason), answered in Chinese and accounted for."""

from __future__ import annotations

from decimal import Decimal

from fixtures.ingest_support import accounting_holds, feedback_lines, ingest, rejected_rows, rows, submission

COUNTY, SEED = "330803", 7
CSV_NAME = f"{COUNTY}_project_funds_2014.csv"
TITLE_NAME = "衢江区2013年扶贫项目资金公告表.xlsx"


def _tables():
    from lowincome.generator.counties import select_counties
    from lowincome.generator.projects import project_funds_table
    from lowincome.generator.villages import village_roster

    county = select_counties([COUNTY])[0]
    roster = village_roster(county, 0.01, SEED)
    return (project_funds_table(county, roster, 2014, SEED, fiscal_words=True),
            project_funds_table(county, roster, 2013, SEED))


def _cents(value: float | None) -> int:
    return round(Decimal(str(value or 0)) * 100)


def test_names_say_project_funds():
    from lowincome.ingest.recognise import hint_from_name

    for name, year in ((CSV_NAME, 2014), (TITLE_NAME, 2013)):
        hint = hint_from_name(name)
        assert (hint.template, hint.county_code, hint.year) == ("project_funds", COUNTY, year), name


def test_generated_project_funds_load_validate_and_answer_in_chinese(empty_warehouse):
    from lowincome.generator.projects import AMOUNT_COLUMNS
    from lowincome.generator.styles import county_styles
    from lowincome.generator.writers import write_table

    cfg = empty_warehouse
    cfg.landing_dir.mkdir(parents=True, exist_ok=True)
    funds_2014, funds_2013 = _tables()
    columns = funds_2014.columns
    # one project disburses more than it was allocated: its row is rejected, the rest loads
    bad = list(funds_2014.rows[0])
    bad[columns.index("project_id")] = "XM2014-BAD"
    bad[columns.index("amount_disbursed")] = bad[columns.index("amount_allocated")] + 10_000.0
    funds_2014.rows.insert(3, bad)
    style = county_styles(SEED)[COUNTY]
    write_table(funds_2014, style.with_changes(fmt="csv", encoding="gbk", headers="zh",
                                               wan_yuan=frozenset(AMOUNT_COLUMNS)), cfg.landing_dir / CSV_NAME)
    write_table(funds_2013, style.with_changes(fmt="xlsx", headers="zh_unit", title_row=True, unit_row=True,
                                               wan_yuan=frozenset()), cfg.landing_dir / TITLE_NAME)
    assert "万元".encode("gbk") in (cfg.landing_dir / CSV_NAME).read_bytes()

    outcomes = ingest(cfg)
    assert {name: o.status for name, o in outcomes.items()} == {CSV_NAME: "loaded", TITLE_NAME: "loaded"}

    csv_sub, title_sub = submission(cfg, CSV_NAME), submission(cfg, TITLE_NAME)
    assert (csv_sub["template"], csv_sub["county_code"], csv_sub["year"]) == ("project_funds", COUNTY, 2014)
    assert (title_sub["template"], title_sub["county_code"], title_sub["year"]) == ("project_funds", COUNTY, 2013)
    assert (csv_sub["rows_read"], csv_sub["rows_loaded"], csv_sub["rows_rejected"]) == (
        len(funds_2014.rows), len(funds_2014.rows) - 1, 1)
    rejected = rejected_rows(cfg, csv_sub["id"])
    assert [(r["row_number"], r["rule"], r["reason"]) for r in rejected] == [
        (5, "disbursed_le_allocated", "已拨付资金不能大于安排资金")]       # header is row 1, the bad row the 4th

    # 万元 -> yuan, 省级财政 -> 省级, blank optional cells -> null
    loaded = {r["project_id"]: r for r in rows(cfg, "select * from raw.project_funds where _submission_id = %s",
                                               (csv_sub["id"],))}
    expected = [r for r in funds_2014.rows if r is not bad]
    assert len(loaded) == len(expected)
    for row in expected:
        got = loaded[row[columns.index("project_id")]]
        for column in ("amount_allocated", "amount_disbursed"):
            assert _cents(got[column]) == _cents(row[columns.index(column)]), (column, row)
        assert got["fund_source"] in ("中央", "省级", "市级", "县级", "社会帮扶", "结对帮扶", "其他")
        assert got["announced_on"] == row[columns.index("announced_on")]
        assert got["village_code"] == row[columns.index("village_code")]
    assert rows(cfg, "select sum(amount_allocated) as s from raw.project_funds where _submission_id = %s",
                (title_sub["id"],))[0]["s"] == sum(Decimal(str(r[columns.index("amount_allocated")]))
                                                  for r in funds_2013.rows)

    lines = feedback_lines(cfg, CSV_NAME)
    text = "\n".join(",".join(line) for line in lines)
    assert "已拨付资金不能大于安排资金" in text and "5" in text
    accounting_holds(cfg)
