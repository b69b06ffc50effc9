"""marts.project_disclosure (公告公示) against a hand computation, its row security, and the public pages
written from it (their totals computed by hand too).

Projects of 衢江区 (A) 2017, one of 江山市 (B) 2016 (amounts in yuan):

    id   village        allocated  disbursed  announced    period ends   rate   not announced  disbursed early
    P1   A 100001 (名)    500,000    500,000  2017-04-01   2017-04-10    100.0  no             no
    P2   county-wide     300,000    120,000  -            -              40.0  yes            yes (never announced)
    P3   A 100002        200,000          0  -            -               0.0  yes            no  (nothing paid)
    P4   A 100001        100,000     50,000  2017-12-28   2018-01-07     50.0  no             yes (ends after 31 Dec)
    P5   A 100001         80,000     80,000  2017-12-31   2017-12-31    100.0  no             no  (ends on 31 Dec)
    P6   A 100003         10,000          1  2018-01-05   -               0.0  no             yes (no end: the date)
    P7   county-wide           0          0  2017-03-01   2017-03-08      -    no             no  (nothing allocated)
    Q1   B 100001         60,000     30,000  2016-05-01   2016-05-08     50.0  no             no

A 2017 in total: allocated 1,190,000, disbursed 750,001, rate 63.0 %; 2 not announced, 3 disbursed early.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import psycopg
import pytest
from fixture_data import A, B
from marts_harness import query
from project_fixture import disclosed_warehouse

pytestmark = pytest.mark.slow

EXPECTED = {  # rate, not announced, disbursed before the announcement period ended
    "P1": (Decimal("100.0"), False, False), "P2": (Decimal("40.0"), True, True),
    "P3": (Decimal("0.0"), True, False), "P4": (Decimal("50.0"), False, True),
    "P5": (Decimal("100.0"), False, False), "P6": (Decimal("0.0"), False, True),
    "P7": (None, False, False), "Q1": (Decimal("50.0"), False, False),
}


@pytest.fixture(scope="module")
def disclosed(cfg, marts_scratch):
    return disclosed_warehouse(cfg, marts_scratch)


def test_each_project_as_computed_by_hand(disclosed):
    rows = {r["project_id"]: r for r in query(disclosed, "select * from marts.project_disclosure")}
    assert set(rows) == set(EXPECTED)
    for pid, (rate, not_announced, early) in EXPECTED.items():
        r = rows[pid]
        assert (r["disbursement_rate_pct"], r["not_announced"], r["disbursed_before_announcement_ended"]) == (
            rate, not_announced, early), pid
    p1 = rows["P1"]
    assert (p1["county_name"], p1["city_code"], p1["village_name"], p1["fund_source"]) == ("衢江区", "330800", "塔山村", "省级")
    assert (p1["amount_allocated"], p1["amount_disbursed"], p1["beneficiary_households"]) == (
        Decimal("500000.00"), Decimal("500000.00"), 35)
    assert rows["P3"]["village_name"] is None and rows["P2"]["village_code"] is None
    a2017 = query(disclosed, """select sum(amount_allocated) as allocated, sum(amount_disbursed) as disbursed,
        count(*) filter (where not_announced) as not_announced,
        count(*) filter (where disbursed_before_announcement_ended) as early
        from marts.project_disclosure where county_code = %s and year = 2017""", (A,))[0]
    assert (a2017["allocated"], a2017["disbursed"], a2017["not_announced"], a2017["early"]) == (
        Decimal("1190000.00"), Decimal("750001.00"), 2, 3)


def test_the_contract_refuses_disbursed_above_allocated(disclosed):
    """The mart's allowed values are constraints: a publication that breaks them is not made."""
    from lowincome.errors import UserError
    from lowincome.transform import run_dbt

    with psycopg.connect(disclosed.warehouse_url(), autocommit=True) as conn:
        conn.execute("update warehouse.fct_project_fund set amount_disbursed = 600000 where project_id = 'P1'")
        try:
            with pytest.raises((UserError, RuntimeError, Exception), match="(?i)check|constraint|failed"):
                run_dbt(disclosed, ["run", "--select", "project_disclosure"])
        finally:
            conn.execute("update warehouse.fct_project_fund set amount_disbursed = 500000 where project_id = 'P1'")
    assert query(disclosed, "select amount_disbursed from marts.project_disclosure where project_id = 'P1'")[0][
        "amount_disbursed"] == Decimal("500000.00")


def test_a_county_reads_only_its_own_projects(disclosed):
    from lowincome.publish import grant_county_access

    login = f"pf_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with psycopg.connect(disclosed.warehouse_url(), autocommit=True) as conn:
        conn.execute(f"create role {login} login password '{password}'")
        grant_county_access(conn, B, login)
    url = re.sub(r"//[^@]*@", f"//{login}:{password}@", disclosed.warehouse_url())
    with psycopg.connect(url) as county:
        seen = county.execute("select distinct county_code from marts.project_disclosure").fetchall()
    assert seen == [(B,)]


def test_public_pages_show_the_projects_and_totals(disclosed):
    from lowincome.publish.project_pages import write_project_pages

    index = write_project_pages(disclosed)
    folder = index.parent
    assert sorted(p.name for p in folder.glob("*.html")) == sorted(["index.html", f"{A}.html", f"{B}.html"])
    page = (folder / f"{A}.html").read_text(encoding="utf-8")
    assert "衢江区扶贫项目资金公告公示" in page and "default-src 'none'" in page and "<script" not in page
    summary = re.search(r'<tr data-year="2017">(.*?)</tr>', page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", summary, re.S)]
    assert cells == ["2017", "7", "1,190,000.00", "750,001.00", "63.0%", "2", "3"]
    assert page.count('data-flag="not_announced"') == 2 and page.count('data-flag="disbursed_early"') == 3
    assert "项目P1&lt;b&gt;" in page and "<b>" not in page           # a county's text is escaped
    assert "全县 county-wide" in page and "塔山村" in page
    assert f'href="{A}.html"' in index.read_text(encoding="utf-8")
    # a county whose list left the mart loses its page
    (folder / "330000.html").write_text("old", encoding="utf-8")
    write_project_pages(disclosed)
    assert not (folder / "330000.html").exists()
