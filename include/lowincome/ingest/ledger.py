"""Reading the ledger (``ops.submissions``): ``lowincome status``.

By county, year and template: what arrived and became of it, what is still missing (a county in scope
without an accepted file of a template for a year the ledger knows), and which files were rejected and
why.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache

import psycopg

from lowincome.config import settings
from lowincome.display import printable
from lowincome.errors import UserError
from lowincome.ingest.names import PROVINCE_CODE, counties
from lowincome.templates import templates

STATUS_ORDER = ("loaded", "rejected", "superseded", "duplicate")
PROVINCE_NAME = "浙江省"


def place_names() -> dict[str, str]:
    """county_code -> name of every county in scope, and the province's code -> 浙江省."""
    return {**counties(), PROVINCE_CODE: PROVINCE_NAME}


def status_report(conn: psycopg.Connection, county: str | None = None, year: int | None = None) -> str:
    """The ledger as text for the terminal; ``county`` (code or name) and ``year`` narrow it."""
    code = resolve_county(county)
    rows = conn.execute(
        """select id, county_code, template, year, status, file_name, rows_read, rows_loaded, rows_rejected,
                  rows_warned, reason_code, reason, received_at
           from ops.submissions
           where (%(c)s::text is null or county_code = %(c)s) and (%(y)s::int is null or year = %(y)s)
           order by county_code nulls last, year nulls last, template nulls last, id""",
        {"c": code, "y": year}).fetchall()
    # every text the ledger got from a file (its name, a county code or year read from it, reasons that
    # quote them) is printed escaped: one line per row, no escape sequence reaching the terminal
    rows = [tuple(printable(v) if isinstance(v, str) else v for v in r) for r in rows]
    names = place_names()
    lines: list[str] = []
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r[4]] += 1
    scope = f" for {printable(code)} {names.get(code, '')}".rstrip() if code else ""
    scope += f" in {year}" if year else ""
    lines.append(f"Ledger{scope}: {len(rows)} files received ("
                 + ", ".join(f"{totals[s]} {s}" for s in STATUS_ORDER if totals[s]) + ")" if rows
                 else f"Ledger{scope}: no files received yet")
    by_county: dict[str | None, list] = defaultdict(list)
    for r in rows:
        by_county[r[1]].append(r)
    for county_code, subs in by_county.items():
        title = county_code or "(unknown county)"
        lines.append("")
        lines.append(f"{title} {names.get(county_code or '', '')}".rstrip())
        lines.append(f"  {'year':<5} {'template':<22} {'status':<10} {'read':>7} {'loaded':>7} {'rejected':>8}"
                     f"  {'received':<16}  file")
        for (sid, _c, tpl, yr, status, file_name, read, loaded, rejected, _warned, _code, _reason,
             received) in subs:
            lines.append(f"  {str(yr or '-'):<5} {tpl or '-':<22} {status:<10} {read:>7} {loaded:>7} {rejected:>8}"
                         f"  {received:%Y-%m-%d %H:%M}  #{sid} {file_name}")
    lines += _missing_lines(_missing(conn, code, year), names)
    rejected = [r for r in rows if r[4] == "rejected"]
    if rejected:
        lines.append("")
        lines.append("Rejected files and why:")
        for r in rejected:
            where = f"{r[1]} {names[r[1]]}" if r[1] in names else (r[1] or "?")
            lines.append(f"  #{r[0]} {r[5]} ({where} {r[2] or '?'} {r[3] or '?'}): {r[10]}: {r[11]}")
    partial = [r for r in rows if r[4] == "loaded" and r[8]]
    if partial:
        lines.append("")
        lines.append("Loaded with rejected rows (see ops.rejected_rows and the county's feedback file):")
        for r in partial:
            top = conn.execute("""select reason, count(*) from ops.rejected_rows where submission_id = %s
                                  group by reason order by 2 desc, 1 limit 3""", (r[0],)).fetchall()
            why = "; ".join(f"{printable(reason)} ×{n}" for reason, n in top)
            lines.append(f"  #{r[0]} {r[5]}: {r[8]} of {r[6]} rows rejected: {why}")
    return "\n".join(lines)


def _missing_lines(missing: dict[tuple[str, int], list[str]], names: dict[str, str]) -> list[str]:
    """Per year and template, the counties without an accepted file (a count when most are missing)."""
    if not missing:
        return []
    by_template: dict[tuple[int, str], list[str]] = defaultdict(list)
    for (county_code, yr), tpls in missing.items():
        for tpl in tpls:
            by_template[(yr, tpl)].append(county_code)
    order = list(templates())
    total = len(counties())
    lines = ["", "Missing (no accepted file yet):"]
    for (yr, tpl), codes in sorted(by_template.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))):
        label = [names.get(c, c) for c in sorted(codes)]
        if len(codes) <= 10:
            text = "、".join(label)
        else:
            received = sorted(set(counties()) - set(codes))
            text = f"{len(codes)} of {total} counties" + (
                f" (received only from {'、'.join(names[c] for c in received)})" if 0 < len(received) <= 10 else "")
        lines.append(f"  {yr} {tpl:<22} {text}")
    return lines


def resolve_county(county: str | None) -> str | None:
    """The code of a county given by code or name (330803, 衢江区, 衢江), or of the province (330000, 浙江省);
    anything else is a :class:`UserError`: an unknown code would only list every template as missing."""
    if county is None:
        return None
    county = county.strip()
    names = place_names()
    if county in names:
        return county
    for code, name in names.items():
        if county in (name, name.rstrip("市县区"), name.rstrip("省")):
            return code
    raise UserError(f"unknown county {printable(county)!r}: give one of the {len(counties())} county codes or names "
                    f"of include/config/counties.csv (e.g. 330803 or 衢江区), or {PROVINCE_CODE} {PROVINCE_NAME}")


@cache
def first_years() -> dict[str, int]:
    """The first year each template is due, from the reporting calendar (the seed the completeness mart
    reads): project_funds (公告公示) starts with the plan, in 2013; a year before it is missing nothing."""
    path = settings().dbt_project_dir / "seeds" / "reporting_calendar.csv"
    found: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found[row["template"]] = min(found.get(row["template"], 9999), int(row["year"]))
    return found


def _missing(conn: psycopg.Connection, code: str | None, year: int | None) -> dict[tuple[str, int], list[str]]:
    """County-years of the ledger's years lacking an accepted (loaded) file of a template."""
    years = [y for (y,) in conn.execute("select distinct year from ops.submissions where year is not null "
                                        "and status in ('loaded', 'superseded') order by 1").fetchall()]
    if year is not None:
        years = [year]
    accepted = {(c, t, y) for c, t, y in conn.execute(
        "select county_code, template, year from ops.submissions where status = 'loaded'").fetchall()}
    wanted_counties = [code] if code else sorted(counties()) + [PROVINCE_CODE]
    missing: dict[tuple[str, int], list[str]] = defaultdict(list)
    first = first_years()
    for county_code in wanted_counties:
        for tpl in templates().values():
            fixed = tpl.fixed_county_code
            if (fixed is None) == (county_code == PROVINCE_CODE):
                continue
            for y in years:
                if y >= first.get(tpl.name, y) and (county_code, tpl.name, y) not in accepted:
                    missing[(county_code, y)].append(tpl.name)
    return missing
