"""The monitoring report: ``$LOWINCOME_DATA_DIR/reports/index.html``, one self-contained page.

It reads only the published marts (so it shows exactly what BI tools see: rounded, suppressed, with
their flags) and draws every chart as inline SVG (lowincome.publish.charts): no script, no stylesheet,
font or image is fetched from anywhere, so the page opens from the file system with no network.

Sections: a scorecard of every target; the 29-county and 12-county summaries year by year; a card
per target with the counties against the threshold (latest year) and the trend of the groups; the
submission completeness of the latest year; recent revisions; reconciliation differences.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.publish import charts
from lowincome.templates import templates
from lowincome.warehouse import connect

TARGET_GROUPS = "TPRFSMI"
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
GROUP_NAMES = {"group29": "29县", "group12": "12县", "province": "浙江省"}
POPULATION_TOTAL = {"all": "province", "province": "province", "group29": "group29", "group12": "group12"}
POPULATION_LABEL = {
    "all": "每个县 every county", "group29": "29县 the 29 counties", "group12": "12县 the 12 counties",
    "developed": "发达地区县 developed counties", "province": "全省 province",
}
STATE_LABEL = {
    "on_time": ("按时", "on time"), "late": ("逾期", "late"), "rejected": ("退回", "rejected"),
    "missing": ("未报", "missing"), "not_due": ("未到期", "not due"),
}


@dataclass
class TargetView:
    target_id: str
    description_zh: str
    description_en: str
    population: str
    assessed_at: str
    deadline_year: int
    collected: bool
    criteria: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)           # target_attainment rows of the target

    @property
    def total_level(self) -> str | None:
        return POPULATION_TOTAL.get(self.population)

    @property
    def unit(self) -> str:
        return next((r["unit"] for r in self.rows if r["unit"]), "")

    def latest_year(self) -> int | None:
        years = [r["year"] for r in self.rows if r["value"] is not None]
        return max(years) if years else None

    def total(self, year: int | None) -> dict | None:
        return next((r for r in self.rows if r["geography_level"] == self.total_level and r["year"] == year), None)

    def counties(self, year: int | None) -> list[dict]:
        return [r for r in self.rows if r["geography_level"] == "county" and r["year"] == year]


def write_report(cfg: Settings) -> Path:
    """Render the report from the marts into ``reports/index.html``; returns its path."""
    with connect(cfg.warehouse_url()) as conn:
        if not conn.execute("select to_regclass('marts.target_attainment') is not null").fetchone()[0]:
            raise UserError("the marts are not built yet; run `lowincome run` (or the publish_monitoring DAG) first")
        page = render(load(conn))
    out = cfg.reports_dir
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    tmp = out / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target


# ---------------------------------------------------------------------------------------------- data
def _rows(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _target_order(target_id: str) -> tuple[int, int]:
    letter, number = target_id[0], int(re.sub(r"\D", "", target_id) or 0)
    return TARGET_GROUPS.find(letter) if letter in TARGET_GROUPS else 99, number


def load(conn: psycopg.Connection) -> dict:
    plan = conn.execute(
        "select plan from marts.target_attainment group by plan order by max(deadline_year) desc limit 1"
    ).fetchone()
    plan = plan[0] if plan else "2013-2017"
    definitions = _rows(conn, "select * from marts.plan_targets where plan = %s order by target_id, criterion", (plan,))
    targets: dict[str, TargetView] = {}
    for d in definitions:
        view = targets.get(d["target_id"])
        if view is None:
            view = targets[d["target_id"]] = TargetView(
                d["target_id"], d["description_zh"], d["description_en"], d["population"], d["assessed_at"],
                d["deadline_year"], False)
        view.criteria.append(d)
        view.collected = view.collected or d["collected"]
    for row in _rows(conn, """
            select * from marts.target_attainment where plan = %s
            order by target_id, geography_level, geography_code, year""", (plan,)):
        for key in ("value", "threshold", "trend", "on_track_value", "ratio_to_base", "gap_to_threshold"):
            row[key] = _number(row[key])
        if row["target_id"] in targets:
            targets[row["target_id"]].rows.append(row)
    criteria = _rows(conn, """
        select * from marts.target_criteria
        where plan = %s and geography_level in ('group29', 'group12', 'province')
        order by target_id, criterion, year""", (plan,))
    for row in criteria:
        row["value"], row["threshold"] = _number(row["value"]), _number(row["threshold"])
    years = [y for (y,) in conn.execute(
        "select distinct year from marts.target_attainment where obs_status <> 'M' order by 1").fetchall()]
    published = conn.execute("select max(valid_from) from marts.target_attainment_history").fetchone()[0]
    vintage = conn.execute("select max(vintage) from marts.indicator_values").fetchone()[0]
    completeness_year = conn.execute("select max(year) from marts.submission_completeness").fetchone()[0]
    completeness = _rows(conn, """
        select * from marts.submission_completeness where year = %s order by county_code, template""",
        (completeness_year,)) if completeness_year is not None else []
    forced = _rows(conn, """
        select county_code, county_name, template, year, forced_submissions, explanations
        from marts.submission_completeness where forced_submissions > 0
        order by year desc, county_code, template limit 40""")
    revisions = _rows(conn, """
        select r.*, g.geography_name from marts.revision_log r
        left join marts.geography g on g.geography_level = r.geography_level and g.geography_code = r.geography_code
        where r.subject = 'target' and r.geography_level <> 'city'
            and (r.previous_value is distinct from r.value or r.previous_met is distinct from r.met)
        order by r.changed_at desc, r.subject_id, g.level_order, r.geography_code limit 20""")
    differences = _rows(conn, """
        select * from marts.reconciliation where within_tolerance = false
        order by year desc, abs(relative_difference_pct) desc nulls last limit 20""")
    return {
        "plan": plan,
        "targets": sorted(targets.values(), key=lambda t: _target_order(t.target_id)),
        "criteria": criteria,
        "years": years,
        "published_at": published,
        "vintage": vintage,
        "completeness_year": completeness_year,
        "completeness": completeness,
        "forced": forced,
        "revisions": revisions,
        "differences": differences,
    }


# ---------------------------------------------------------------------------------------------- html
def _fmt(value: Any, unit: str) -> str:
    return charts.format_value(_number(value), unit)


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else "—"


def _verdict(met: bool | None) -> str:
    if met is True:
        return '<span class="chip met" title="met">达标 ✓</span>'
    if met is False:
        return '<span class="chip not-met" title="not met">未达标 ✗</span>'
    return '<span class="chip none" title="no verdict">—</span>'


def _flags(row: dict | None) -> str:
    if not row:
        return ""
    marks = []
    if row.get("obs_conf") == "C":
        marks.append('<abbr class="flag" title="suppressed: fewer than 5 households">C</abbr>')
    status = row.get("obs_status")
    if status in ("P", "R", "M"):
        titles = {"P": "provisional: reporting deadline not passed", "R": "revised after a resubmission",
                  "M": "no data received"}
        marks.append(f'<abbr class="flag" title="{titles[status]}">{status}</abbr>')
    return "".join(marks)


def _status_note(row: dict) -> str:
    verdict = {True: "met", False: "not met"}.get(row.get("met"), "no verdict")
    return f"{verdict} · OBS_STATUS {row.get('obs_status')} · {row.get('obs_conf')}"


def _scorecard(data: dict) -> str:
    lines = []
    for t in data["targets"]:
        year = t.latest_year()
        total = t.total(year)
        counties = [r for r in t.counties(year) if r["met"] is not None]
        met_n = sum(1 for r in counties if r["met"])
        if not t.collected:
            status = '<span class="muted">templates carry no data 报表未采集</span>'
            value_cell = threshold_cell = trend_cell = counts = ""
        else:
            status = _verdict(total["met"]) + _flags(total) if total else '<span class="muted">—</span>'
            value_cell = _fmt(total["value"], t.unit) if total else "—"
            if total and t.criteria and t.criteria[0]["comparison"] in ("ge", "gt"):
                value_cell += "<br>" + charts.bullet(total["value"], total["threshold"], total["met"])
            threshold_cell = _fmt(total["threshold"], t.unit) if total and total["threshold"] is not None else (
                _threshold_text(t))
            trend_cell = _trend_text(total["trend"] if total else None, t.unit)
            counts = f"{met_n} / {len(counties)}" if counties else "—"
        where = GROUP_NAMES.get(t.total_level or "", "各县")
        lines.append(
            f'<tr><td><a href="#{t.target_id}">{t.target_id}</a></td>'
            f'<td><span lang="zh">{escape(t.description_zh)}</span>'
            f'<div class="en">{escape(t.description_en)}</div></td>'
            f"<td>{escape(where)} {year or ''}</td><td class=num>{value_cell}</td>"
            f"<td class=num>{threshold_cell}</td><td>{status}</td><td class=num>{counts}</td>"
            f"<td class=num>{trend_cell}</td></tr>")
    return ("<table class=scorecard><thead><tr><th>目标<br>target</th><th>内容 what</th><th>范围 where</th>"
            "<th>最新值<br>latest</th><th>目标值<br>threshold</th><th>达标<br>verdict</th>"
            "<th>达标县<br>counties met</th><th>同比<br>vs last year</th></tr></thead><tbody>"
            + "".join(lines) + "</tbody></table>")


def _kpis(data: dict) -> str:
    """Four figures a reader wants first."""
    by_id = {t.target_id: t for t in data["targets"]}
    verdicts = [t.total(t.latest_year())["met"] for t in data["targets"]
                if t.total_level and t.total(t.latest_year()) is not None]
    met, judged = sum(1 for v in verdicts if v), sum(1 for v in verdicts if v is not None)
    tiles = [("目标达标 targets met", f"{met} / {judged}", "for the 29 counties, the 12 or the province")]
    income = by_id.get("T1")
    if income and income.total(income.latest_year()):
        row = income.total(income.latest_year())
        ratio = f"×{row['ratio_to_base']:.2f} vs 2012" if row.get("ratio_to_base") is not None else ""
        tiles.append((f"29县低收入农户人均纯收入 {row['year']}", _fmt(row["value"], "yuan"),
                      f"{ratio} · target 10,000 元 and ×2"))
    relocation = by_id.get("R1")
    if relocation and relocation.total(relocation.latest_year()):
        row = relocation.total(relocation.latest_year())
        tiles.append((f"29县异地搬迁 relocated {row['year']}", _fmt(row["value"], "persons") + " 人",
                      "target 60,000 people a year"))
    due = [r for r in data["completeness"] if r["submission_state"] != "not_due"]
    if due:
        on_time = sum(1 for r in due if r["submission_state"] == "on_time")
        tiles.append((f"按时报送 on time {data['completeness_year']}", f"{100 * on_time / len(due):.1f}%",
                      f"{on_time} of {len(due)} files due"))
    return '<div class="kpis">' + "".join(
        f'<div class="kpi"><div class="label">{escape(label)}</div><div class="figure">{escape(figure)}</div>'
        f'<div class="en">{escape(note)}</div></div>' for label, figure, note in tiles) + "</div>"


def _threshold_text(t: TargetView) -> str:
    first = t.criteria[0] if t.criteria else None
    if not first:
        return ""
    if first["comparison"] == "decrease":
        return "逐年缩小 narrowing"
    if first["comparison"] == "narrow":
        return "差距缩小 narrowing"
    if first["comparison"] == "report":
        return "无数值 no number"
    return _fmt(first["threshold"], t.unit)


def _trend_text(change: float | None, unit: str) -> str:
    if change is None:
        return "—"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
    shown = charts.format_value(abs(change), "pp" if unit == "percent" else unit).lstrip("+")
    return f"{arrow} {shown}"


def _group_summary(data: dict, level: str) -> str:
    years = data["years"]
    head = "".join(f"<th>{y}</th>" for y in years)
    body = []
    for t in data["targets"]:
        by_year = {r["year"]: r for r in t.rows if r["geography_level"] == level}
        if not by_year or all(r["value"] is None for r in by_year.values()):
            continue
        cells = []
        for y in years:
            r = by_year.get(y)
            if r is None:
                cells.append("<td></td>")
                continue
            cls = {True: "met", False: "not-met"}.get(r["met"], "")
            cells.append(f'<td class="num {cls}" title="{escape(_status_note(r))}">'
                         f'{_fmt(r["value"], r["unit"] or t.unit)}{_flags(r)}</td>')
        body.append(f'<tr><th><a href="#{t.target_id}">{t.target_id}</a> '
                    f'<span class="muted">{escape(_short_zh(t.description_zh))}</span></th>{"".join(cells)}</tr>')
    if not body:
        return '<p class="muted">No figures published for this group yet.</p>'
    return f'<table class="summary"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _short_zh(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _target_card(t: TargetView, data: dict) -> str:
    title = f'<h3 id="{t.target_id}">{t.target_id} <span lang="zh">{escape(t.description_zh)}</span></h3>'
    intro = (f'<p class="en">{escape(t.description_en)} — {escape(POPULATION_LABEL.get(t.population, ""))}, '
             f"by {t.deadline_year}.</p>")
    if not t.collected or not t.rows:
        reason = ("The submission templates carry no data for this target."
                  if not t.collected else "No figures published yet.")
        return f'<section class="card">{title}{intro}<p class="muted">{reason}</p></section>'
    year = t.latest_year()
    unit = t.unit
    counties = t.counties(year)
    threshold = next((r["threshold"] for r in counties if r["threshold"] is not None), None)
    bars = [charts.Bar(r["geography_name"] or r["geography_code"], r["value"], r["met"], _status_note(r))
            for r in counties]
    hidden = sorted(r["geography_name"] or r["geography_code"] for r in counties if r["obs_conf"] == "C")
    missing = sum(1 for r in counties if r["obs_status"] == "M")
    county_svg = charts.county_columns(
        bars, unit=unit, threshold=threshold,
        title=f"{t.target_id} {year}: counties against the threshold")
    levels = [lvl for lvl in ("group29", "group12", "province") if any(
        r["geography_level"] == lvl and r["value"] is not None for r in t.rows)]
    series = [charts.Series(GROUP_NAMES[lvl], [
        (r["year"], r["value"], r["obs_status"] == "P") for r in t.rows if r["geography_level"] == lvl
    ], charts.SERIES[i % len(charts.SERIES)]) for i, lvl in enumerate(levels)]
    total_rows = [r for r in t.rows if r["geography_level"] == t.total_level]
    total_threshold = next((r["threshold"] for r in total_rows if r["threshold"] is not None), threshold)
    path = [(r["year"], r["on_track_value"]) for r in total_rows if r["on_track_value"] is not None]
    trend_svg = charts.trend(series, unit=unit, threshold=total_threshold, path=path, years=data["years"],
                             title=f"{t.target_id}: the groups year by year")
    total = t.total(year)
    headline = ""
    if total:
        headline = (f'<p class="headline">{escape(GROUP_NAMES.get(t.total_level, ""))} {year}: '
                    f'<strong>{_fmt(total["value"], unit)}</strong> {_flags(total)} {_verdict(total["met"])}')
        if total.get("ratio_to_base") is not None:
            headline += (f' · ratio to 2012 <strong>{total["ratio_to_base"]:.3f}</strong>, on-track path '
                         f'{_fmt(total["on_track_value"], unit)}')
        headline += "</p>"
    judged = [r for r in counties if r["met"] is not None]
    notes = [f"{sum(1 for r in judged if r['met'])} of {len(judged)} counties meet it in {year}."
             if judged else f"Counties are not assessed one by one for {t.target_id}; the bars show their parts."]
    if hidden:
        notes.append("Suppressed (fewer than 5 households, or hidden with one): " + escape("、".join(hidden)) + ".")
    if missing:
        notes.append(f"{missing} counties sent no data for {year}.")
    criteria = _criteria_table(t, data, year)
    return (f'<section class="card">{title}{intro}{headline}<div class="charts">'
            f'<figure>{county_svg}<figcaption>{year}: each county against the threshold, sorted (green: meets '
            f'the target, every criterion of it; red: does not; grey: no verdict)</figcaption></figure>'
            f'<figure>{trend_svg}<figcaption>The groups year by year (hollow: provisional)</figcaption></figure>'
            f'</div><p class="notes">{" ".join(notes)}</p>{criteria}</section>')


def _criteria_table(t: TargetView, data: dict, year: int | None) -> str:
    if len(t.criteria) < 2:
        return ""
    rows = [c for c in data["criteria"] if c["target_id"] == t.target_id and c["year"] == year
            and c["geography_level"] in (t.total_level, "group29", "group12", "province")]
    if not rows:
        return ""
    lines = "".join(
        f'<tr><td>{c["criterion"]}</td><td>{escape(c["description_zh"])}</td>'
        f'<td>{escape(GROUP_NAMES.get(c["geography_level"], ""))}</td>'
        f'<td class=num>{_fmt(c["value"], c["unit"] or "")}{_flags(c)}</td>'
        f'<td class=num>{_fmt(c["threshold"], c["unit"] or "") if c["threshold"] is not None else "—"}</td>'
        f'<td>{_verdict(c["met"]) if c["comparison"] != "report" else "—"}</td></tr>'
        for c in rows)
    return ('<details><summary>Criteria 考核指标</summary><table class="criteria"><thead><tr><th>#</th>'
            '<th>criterion</th><th>where</th><th>value</th><th>threshold</th><th>verdict</th></tr></thead>'
            f"<tbody>{lines}</tbody></table></details>")


def _completeness(data: dict) -> str:
    rows = data["completeness"]
    if not rows:
        return '<p class="muted">No submissions received yet.</p>'
    names = {name: tpl.zh for name, tpl in templates().items()}
    order = [name for name in templates() if any(r["template"] == name for r in rows)]
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_county: dict[str, dict[str, dict]] = defaultdict(dict)
    county_names: dict[str, str] = {}
    for r in rows:
        tally[r["template"]][r["submission_state"]] += 1
        by_county[r["county_code"]][r["template"]] = r
        county_names[r["county_code"]] = r["county_name"] or r["county_code"]
    summary = "".join(
        f"<tr><th>{escape(names.get(t, t))}<div class=en>{t}</div></th>"
        + "".join(f'<td class="num state-{s}">{tally[t].get(s, 0)}</td>' for s in STATE_LABEL)
        + "</tr>" for t in order)
    head = "".join(f'<th title="{escape(t)}">{escape(names.get(t, t))}</th>' for t in order)
    grid = []
    for code in sorted(by_county):
        cells = []
        for t in order:
            r = by_county[code].get(t)
            if r is None:
                cells.append('<td class="na"></td>')
                continue
            zh, en = STATE_LABEL[r["submission_state"]]
            extra = []
            if r["rejected_rows_pct"] is not None and float(r["rejected_rows_pct"]) > 0:
                extra.append(f'{float(r["rejected_rows_pct"]):.1f}% rows rejected')
            if r["days_late"]:
                extra.append(f'{r["days_late"]} days late')
            if r["forced_submissions"]:
                extra.append("forced submission (上报说明)")
            mark = " !" if r["forced_submissions"] else ""
            tip = f"{county_names[code]} {t} {r['year']}: {en}" + ("; " + "; ".join(extra) if extra else "")
            cells.append(f'<td class="state-{r["submission_state"]}" title="{escape(tip)}">{zh}{mark}</td>')
        grid.append(f"<tr><th>{escape(county_names[code])} <span class=muted>{code}</span></th>{''.join(cells)}</tr>")
    legend = "".join(f'<span class="chip state-{s}">{zh} {en}</span>' for s, (zh, en) in STATE_LABEL.items())
    forced = "".join(
        f"<tr><td>{escape(f['county_name'] or '')} {f['county_code']}</td><td>{escape(names.get(f['template'], f['template']))}</td>"
        f"<td>{f['year']}</td><td class=num>{f['forced_submissions']}</td><td>{escape(f['explanations'] or '')}</td></tr>"
        for f in data["forced"])
    forced_table = (f'<h3>强制上报 Forced submissions</h3><table class="forced"><thead><tr><th>county</th><th>template</th>'
                    f'<th>year</th><th>files</th><th>上报说明 explanation</th></tr></thead><tbody>{forced}</tbody></table>'
                    if forced else "<p class=muted>No forced submissions.</p>")
    return (f'<p>{legend}</p><table class="tally"><thead><tr><th>{data["completeness_year"]}</th>'
            + "".join(f"<th>{zh}<div class=en>{en}</div></th>" for zh, en in STATE_LABEL.values())
            + f'</tr></thead><tbody>{summary}</tbody></table>'
            f'<details><summary>Every county, {data["completeness_year"]} (! = forced submission)</summary>'
            f'<table class="completeness"><thead><tr><th>county</th>{head}</tr></thead>'
            f'<tbody>{"".join(grid)}</tbody></table></details>{forced_table}')


def _revisions(data: dict) -> str:
    if not data["revisions"]:
        return '<p class="muted">No published figure has been revised.</p>'
    lines = "".join(
        f"<tr><td>{_local(r['changed_at'])}</td><td><a href=\"#{r['subject_id']}\">{r['subject_id']}</a></td>"
        f"<td>{escape(r['geography_name'] or r['geography_code'])}</td><td>{r['year']}</td>"
        f"<td class=num>{_fmt(r['previous_value'], r['unit'] or '')} → {_fmt(r['value'], r['unit'] or '')}</td>"
        f"<td>{_verdict(r['previous_met'])} → {_verdict(r['met'])}</td><td>{escape(r['change_reason'])}</td></tr>"
        for r in data["revisions"])
    return ('<table class="revisions"><thead><tr><th>published</th><th>target</th><th>where</th><th>year</th>'
            f"<th>value</th><th>verdict</th><th>why</th></tr></thead><tbody>{lines}</tbody></table>")


def _differences(data: dict) -> str:
    if not data["differences"]:
        return '<p class="muted">Every comparison is within tolerance.</p>'
    lines = "".join(
        f"<tr><td>{escape(r['description_zh'] or '')}<div class=en>{escape(r['description_en'] or '')}</div></td>"
        f"<td>{escape(r['geography_name'] or r['geography_code'])}</td><td>{r['year']}</td>"
        f"<td class=num>{_number(r['left_value']):,.0f}</td><td class=num>{_number(r['right_value']):,.0f}</td>"
        f"<td class=num>{_number(r['relative_difference_pct']) if r['relative_difference_pct'] is not None else '—'}%</td>"
        f"<td class=num>±{_number(r['tolerance_pct']):g}%</td></tr>"
        for r in data["differences"])
    return ('<table class="differences"><thead><tr><th>check</th><th>where</th><th>year</th><th>checked</th>'
            f"<th>reference</th><th>difference</th><th>tolerance</th></tr></thead><tbody>{lines}</tbody></table>")


STYLE = """
:root { --ink:#24292f; --muted:#57606a; --line:#d0d7de; --met:#1a7f37; --not:#cf222e; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font: 14px/1.45 -apple-system, "Segoe UI", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif; }
header { background: #0b3d62; color: #fff; padding: 22px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; }
header p { margin: 2px 0; color: #d7e6f3; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: 8px 32px; z-index: 2; }
nav a { margin-right: 18px; color: #0550ae; text-decoration: none; }
main { padding: 8px 32px 40px; max-width: 1280px; }
h2 { margin: 28px 0 10px; font-size: 20px; border-bottom: 2px solid #0b3d62; padding-bottom: 4px; }
h3 { margin: 0 0 4px; font-size: 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--bg); font-weight: 600; font-size: 12px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.en { color: var(--muted); font-size: 12px; }
.muted { color: var(--muted); }
.chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; white-space: nowrap;
  background: #eaeef2; margin: 1px 2px; }
.chip.met { background: #dafbe1; color: var(--met); }
.chip.not-met { background: #ffebe9; color: var(--not); }
.flag { display: inline-block; margin-left: 3px; padding: 0 4px; border: 1px solid var(--muted); border-radius: 3px;
  font-size: 10px; color: var(--muted); text-decoration: none; vertical-align: 1px; }
table.summary td.met { background: #dafbe1; }
table.summary td.not-met { background: #ffebe9; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 14px 0; }
.card .headline { margin: 6px 0; font-size: 15px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 12px; }
svg.chart { max-width: 100%; height: auto; }
.notes { color: var(--muted); font-size: 13px; }
.state-on_time { background: #dafbe1; } .state-late { background: #fff8c5; }
.state-missing { background: #ffebe9; } .state-rejected { background: #ffd8d3; }
.state-not_due { background: #eaeef2; } td.na { background: #fff; }
table.completeness td { text-align: center; font-size: 12px; padding: 2px 6px; }
table.completeness th { font-size: 12px; white-space: nowrap; }
details { margin: 6px 0; } summary { cursor: pointer; color: #0550ae; }
[id] { scroll-margin-top: 48px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 4px; }
.kpi { flex: 1 1 220px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--bg); }
.kpi .label { font-size: 13px; color: var(--muted); }
.kpi .figure { font-size: 26px; font-weight: 600; margin: 2px 0; font-variant-numeric: tabular-nums; }
svg.bullet { display: inline-block; margin-top: 3px; }
footer { color: var(--muted); font-size: 12px; padding: 16px 32px 32px; border-top: 1px solid var(--line); }
"""


def render(data: dict) -> str:
    published_text = _local(data["published_at"]) + " (Asia/Shanghai)"
    vintage_text = _local(data["vintage"])[:10]
    cards = "".join(_target_card(t, data) for t in data["targets"])
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>低收入农户收入倍增计划监测报告 · Monitoring report {escape(data['plan'])}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>浙江省低收入农户收入倍增计划({escape(data['plan'])})监测报告</h1>
<p>Monitoring report of Zhejiang's income-doubling plan for low-income rural households, {escape(data['plan'])}</p>
<p>发布 published {published_text} · 最新数据 latest data received {vintage_text} ·
数据年度 years {", ".join(str(y) for y in data['years']) or "—"}</p>
</header>
<nav><a href="#scorecard">目标一览 Scorecard</a><a href="#groups">29县 / 12县</a><a href="#targets">各目标 Targets</a>
<a href="#completeness">报送情况 Submissions</a><a href="#revisions">修订 Revisions</a>
<a href="#reconciliation">核对 Reconciliation</a></nav>
<main>
{_kpis(data)}
<h2 id="scorecard">目标一览 Where the plan stands</h2>
<p class="muted">Latest year with data for each target, for the target's population (the 29 counties, the 12
counties or the province). Flags: <abbr class="flag">P</abbr> provisional (reporting deadline not passed),
<abbr class="flag">R</abbr> revised, <abbr class="flag">C</abbr> suppressed (fewer than 5 households).</p>
{_scorecard(data)}
<h2 id="groups">29县与12县 The 29 and the 12 counties, year by year</h2>
<h3>29县 The 29 counties</h3>
{_group_summary(data, "group29")}
<h3>12县 The 12 counties</h3>
{_group_summary(data, "group12")}
<h2 id="targets">各目标 Each target: the counties and the trend</h2>
{cards}
<h2 id="completeness">报送情况 Submission completeness, {data['completeness_year'] or ''}</h2>
{_completeness(data)}
<h2 id="revisions">修订记录 Recent revisions</h2>
{_revisions(data)}
<h2 id="reconciliation">数据核对 Reconciliation differences beyond tolerance</h2>
{_differences(data)}
</main>
<footer>
Figures from the published marts (schema <code>marts</code>): money rounded to the yuan, shares to 0.1
percentage point, counts exact; per-capita incomes are Σ net income / Σ household size over the monitored
households (在册, 新增, 脱贫). A figure built from fewer than 5 households is not published.
Documentation: <a href="../docs/dbt/index.html">dbt docs</a> ·
<a href="../docs/validation/index.html">data validation (GX Data Docs)</a>.
</footer>
</body>
</html>
"""
