"""The reporting calendar of a county: every expected file (template × year), its deadline and state.

Deadlines come from the seed the marts use (``dbt_project/seeds/reporting_calendar.csv``, read by
``marts.submission_completeness``); the years expected run, as there, from the baseline year to the latest
year any file reports on (a file submitted in the portal included). The state of a file, from the ledger (``ops.submissions``) and the portal:

* 通过 (accepted): a file was loaded (or loaded and superseded since);
* 已报 (submitted): a file was submitted in the portal and waits for the night;
* 退回 (returned): the latest file received was rejected, and none accepted;
* 逾期 (overdue): nothing accepted and the deadline has passed (Asia/Shanghai);
* 未报 (not sent): nothing yet, the deadline still ahead.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from lowincome.config import Settings
from lowincome.ingest.recognise import PROVINCE_CODE, counties
from lowincome.templates import templates

BASELINE_YEAR = 2012
STATES = {"accepted": "通过", "submitted": "已报", "returned": "退回", "overdue": "逾期", "open": "未报"}
ORDER = {"overdue": 0, "returned": 1, "open": 2, "submitted": 3, "accepted": 4}


@cache
def _calendar(path: Path) -> dict[tuple[str, int], dt.date]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {(r["template"], int(r["year"])): dt.date.fromisoformat(r["deadline"]) for r in csv.DictReader(handle)}


def calendar(cfg: Settings) -> dict[tuple[str, int], dt.date]:
    return _calendar(cfg.dbt_project_dir / "seeds" / "reporting_calendar.csv")


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def expected(cfg: Settings, conn: psycopg.Connection, county_codes: list[str]) -> list[dict]:
    """Every expected file of these counties with its state, the latest submission and the history."""
    cal = calendar(cfg)
    last = conn.execute("""select greatest((select max(year) from ops.submissions where county_code is not null
                                                and template is not null),
                                         (select max(year) from ops.portal_uploads where state = 'submitted'))"""
                        ).fetchone()[0] or BASELINE_YEAR
    history: dict[tuple, list[dict]] = {}
    for row in conn.execute(
            """select id, county_code, template, year, status, file_name, received_at, received_on, reason,
                      rows_read, rows_loaded, rows_rejected, rows_warned
               from ops.submissions where county_code = any(%s) and template is not null and year is not null
               order by id""", (county_codes,)).fetchall():
        keys = ("id", "county_code", "template", "year", "status", "file_name", "received_at", "received_on",
                "reason", "rows_read", "rows_loaded", "rows_rejected", "rows_warned")
        entry = dict(zip(keys, row, strict=True))
        history.setdefault((entry["county_code"], entry["template"], entry["year"]), []).append(entry)
    waiting = {(c, t, y): at for c, t, y, at in conn.execute(
        """select county_code, template, year, max(decided_at) from ops.portal_uploads
           where state = 'submitted' and county_code = any(%s) group by 1, 2, 3""", (county_codes,)).fetchall()}
    now = today()
    names = counties()
    out = []
    for county in county_codes:
        for (tpl, year), deadline in sorted(cal.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if not BASELINE_YEAR <= year <= last or (tpl == "province_indicators") != (county == PROVINCE_CODE):
                continue
            files = [f for f in history.get((county, tpl, year), []) if f["status"] != "duplicate"]
            latest = files[-1] if files else None
            pending = waiting.get((county, tpl, year))
            if any(f["status"] in ("loaded", "superseded") for f in files):
                state = "accepted"
            elif pending is not None and (latest is None or pending > latest["received_at"]):
                state = "submitted"
            elif latest is not None and latest["status"] == "rejected":
                state = "returned"
            elif deadline < now:
                state = "overdue"
            else:
                state = "open"
            accepted_on = min((f["received_on"] for f in files if f["status"] in ("loaded", "superseded")),
                              default=None)
            out.append({"county_code": county, "county_name": names.get(county, "浙江省"), "template": tpl,
                        "template_zh": templates()[tpl].zh, "year": year, "deadline": deadline, "state": state,
                        "state_zh": STATES[state], "late": state in ("overdue", "returned") and deadline < now
                        or (accepted_on is not None and accepted_on > deadline),
                        "latest": latest, "history": files})
    return out
