"""What the monitoring report shows, read from the published marts and shaped into tables (no HTML).

:func:`load` runs the SQL (only ``marts``: the report shows exactly what BI tools see: rounded,
suppressed, with their flags); :func:`shape` turns those rows into a :class:`ReportView`: for every year
a scorecard, KPIs, each target's counties (the column chart's data), criteria, the submission
completeness, revisions and reconciliation differences, each one a :class:`Dataset`. A dataset is
rendered twice from the same rows: as an HTML table or chart (lowincome.publish.report) and as the CSV
file the report links beside it, so a download holds exactly what the page shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from lowincome.publish.charts import format_value
from lowincome.templates import templates

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
VERDICT_TEXT = {True: "达标 met", False: "未达标 not met"}
NO_NUMBER = {"decrease": "逐年缩小 narrowing", "narrow": "差距缩小 narrowing",
             "trend": "呈缩小趋势 narrowing trend (below 2012, slope < 0)", "report": "无数值 no number"}


# ------------------------------------------------------------------------------------------ datasets
@dataclass(frozen=True)
class Column:
    """A column of a dataset. ``kind``: text, number (formatted in ``unit`` or the row's ``unit_key``),
    verdict (True/False/None), target (a code linking to its card), state (a submission state)."""

    key: str
    zh: str
    en: str
    kind: str = "text"
    unit: str | None = None
    unit_key: str | None = None
    met_key: str | None = None       # colours the cell met / not met
    flags_key: str | None = None     # P, R, M, C flags shown beside the value
    tip_key: str | None = None       # a tooltip
    shown: bool = True               # False: only in the CSV file (e.g. the unit, the county code)

    def text(self, row: dict) -> str:
        """The cell as the page shows it (and as a person reads it)."""
        value = row.get(self.key)
        if self.kind == "verdict":
            return VERDICT_TEXT.get(value, "—")
        if self.kind == "state":
            return " ".join(STATE_LABEL[value]) if value in STATE_LABEL else ""
        if self.kind == "number" and not isinstance(value, str):
            return format_value(value, self.unit or (row.get(self.unit_key) if self.unit_key else "") or "")
        return "" if value is None else str(value)

    def csv(self, row: dict) -> str:
        """The cell in the CSV file: numbers as published (no thousands separator, no unit)."""
        value = row.get(self.key)
        if self.kind == "number" and isinstance(value, float):
            return f"{value:.12g}"
        if self.kind == "verdict":
            return VERDICT_TEXT.get(value, "")
        return self.text(row) if self.kind == "state" else ("" if value is None else str(value))


@dataclass
class Dataset:
    """Rows shown as one table or chart, and written as ``<slug>.csv`` beside the report."""

    slug: str
    title: str
    columns: list[Column]
    rows: list[dict]
    county_key: str | None = None    # the rows are counties: the county filter keeps one

    @property
    def shown_columns(self) -> list[Column]:
        return [c for c in self.columns if c.shown]

    def csv_header(self) -> list[str]:
        return [c.zh if c.zh == c.en else f"{c.zh} {c.en}" for c in self.columns]

    def csv_rows(self) -> list[list[str]]:
        return [[c.csv(row) for c in self.columns] for row in self.rows]


@dataclass
class TargetYear:
    """One target in one year: the counties (column chart and its table) and the criteria."""

    year: int
    counties: Dataset
    threshold: float | None
    criteria: Dataset | None
    headline: dict | None
    notes: list[str]


@dataclass
class TargetCard:
    target_id: str
    label_zh: str
    label_en: str
    description_zh: str
    description_en: str
    population: str
    deadline_year: int
    unit: str
    reason: str | None                # why there is nothing to show (not collected, no figures)
    trend: Dataset | None = None
    trend_threshold: float | None = None
    years: dict[int, TargetYear] = field(default_factory=dict)


@dataclass
class YearView:
    year: int
    kpis: list[tuple[str, str, str]]
    scorecard: Dataset
    completeness_tally: Dataset | None
    completeness: Dataset | None
    forced: Dataset | None
    revisions: Dataset
    differences: Dataset
    evaluation: list[Dataset] = field(default_factory=list)   # one per evaluation class, ranked


@dataclass
class ReportView:
    plan: str
    published_at: str
    vintage: str
    years: list[int]                  # the years the filter offers, oldest first
    default_year: int | None
    counties: list[tuple[str, list[tuple[str, str]]]]   # (city, [(code, name)]) for the county filter
    groups: dict[str, Dataset]        # group29 / group12: targets × years
    cards: list[TargetCard]
    by_year: dict[int, YearView]
    evaluation_formula: tuple[str, str] | None = None   # (zh, en), as marts.county_evaluation publishes it

    def datasets(self) -> list[Dataset]:
        """Every dataset the page links (a table with no rows is not shown, so not linked)."""
        found = [d for d in self.groups.values() if d.rows]
        for card in self.cards:
            found += [card.trend] if card.trend else []
            for ty in card.years.values():
                found += [ty.counties] + ([ty.criteria] if ty.criteria else [])
        for view in self.by_year.values():
            found += [d for d in (view.scorecard, view.completeness_tally, view.completeness, view.forced)
                      if d is not None]
            found += [d for d in (view.revisions, view.differences) if d.rows]
            found += [d for d in view.evaluation if d.rows]
        return found


# ---------------------------------------------------------------------------------------------- SQL
def _rows(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def load(conn: psycopg.Connection) -> dict:
    """Every row the report shows, from the marts of the latest plan."""
    plan = conn.execute(
        "select plan from marts.target_attainment group by plan order by max(deadline_year) desc limit 1"
    ).fetchone()
    plan = plan[0] if plan else "2013-2017"
    attainment = _rows(conn, """
        select * from marts.target_attainment where plan = %s
        order by target_id, geography_level, geography_code, year""", (plan,))
    for row in attainment:
        for key in ("value", "threshold", "trend", "on_track_value", "ratio_to_base", "gap_to_threshold"):
            row[key] = _number(row[key])
    criteria = _rows(conn, """
        select * from marts.target_criteria
        where plan = %s and (geography_level in ('group29', 'group12', 'province') or met = false)
        order by target_id, criterion, year""", (plan,))
    for row in criteria:
        row["value"], row["threshold"] = _number(row["value"]), _number(row["threshold"])
    return {
        "plan": plan,
        "definitions": _rows(conn, "select * from marts.plan_targets where plan = %s order by target_id, criterion",
                             (plan,)),
        "attainment": attainment,
        "criteria": criteria,
        "years": [y for (y,) in conn.execute(
            "select distinct year from marts.target_attainment where obs_status <> 'M' order by 1").fetchall()],
        "published_at": conn.execute("select max(valid_from) from marts.target_attainment_history").fetchone()[0],
        "vintage": conn.execute("select max(vintage) from marts.indicator_values").fetchone()[0],
        "counties": _rows(conn, """
            select geography_code, geography_name, city_name from marts.geography
            where geography_level = 'county' order by city_code, geography_code"""),
        "completeness": _rows(conn, "select * from marts.submission_completeness order by year, county_code, template"),
        "revisions": _rows(conn, """
            select * from (
                select r.*, g.geography_name, row_number() over (
                    partition by r.year order by r.changed_at desc, r.subject_id, g.level_order, r.geography_code) as n
                from marts.revision_log r
                left join marts.geography g
                    on g.geography_level = r.geography_level and g.geography_code = r.geography_code
                where r.subject = 'target' and r.geography_level <> 'city'
                    and (r.previous_value is distinct from r.value or r.previous_met is distinct from r.met)
            ) latest where n <= 20 order by year, n"""),
        "differences": _rows(conn, """
            select * from (
                select *, row_number() over (
                    partition by year order by abs(relative_difference_pct) desc nulls last, check_id,
                    geography_code) as n
                from marts.reconciliation where within_tolerance = false
            ) largest where n <= 20 order by year, n"""),
        "evaluation": _evaluation_rows(conn, plan),
    }


def _evaluation_rows(conn: psycopg.Connection, plan: str) -> list[dict]:
    """marts.county_evaluation, one row per county-year (a warehouse published before it existed: none)."""
    if not conn.execute("select to_regclass('marts.county_evaluation') is not null").fetchone()[0]:
        return []
    rows = _rows(conn, """
        select evaluation_class, class_zh, class_en, county_code, county_name, year,
            max(score) as score, max(rank_in_class) as rank_in_class, max(weight_scored_pct) as weight_scored_pct,
            max(targets_n) as targets_n, max(targets_scored_n) as targets_scored_n,
            max(targets_met_n) as targets_met_n, max(counties_ranked_n) as counties_ranked_n,
            max(counties_in_class_n) as counties_in_class_n,
            string_agg(target_id, ' ' order by target_id) filter (where status = 'not_met' and weight > 0)
                as not_met,
            string_agg(target_id, ' ' order by target_id) filter (where status = 'suppressed' and weight > 0)
                as suppressed,
            string_agg(target_id, ' ' order by target_id) filter (where status = 'no_data' and weight > 0)
                as no_data,
            max(score_formula_zh) as formula_zh, max(score_formula_en) as formula_en
        from marts.county_evaluation where plan = %s
        group by evaluation_class, class_zh, class_en, county_code, county_name, year
        order by year, evaluation_class, rank_in_class nulls last, county_code""", (plan,))
    for row in rows:
        row["score"], row["weight_scored_pct"] = _number(row["score"]), _number(row["weight_scored_pct"])
    return rows


# ------------------------------------------------------------------------------------------ shaping
def _target_order(target_id: str) -> tuple[int, int]:
    letter, number = target_id[0], int(re.sub(r"\D", "", target_id) or 0)
    return TARGET_GROUPS.find(letter) if letter in TARGET_GROUPS else 99, number


def local_time(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else "—"


def flags(row: dict | None) -> str:
    """The SDMX-style flags a figure carries: P provisional, R revised, M missing, C suppressed."""
    if not row:
        return ""
    found = [row["obs_status"]] if row.get("obs_status") in ("P", "R", "M") else []
    return "".join(found + ([row["obs_conf"]] if row.get("obs_conf") in ("C", "D") else []))


def _why_not_met(failing: list[dict]) -> str:
    """The criteria a geography fails, with their figures: why a column above the line is red."""
    parts = []
    for c in failing:
        what = c["description_zh"] if len(c["description_zh"]) <= 18 else c["description_zh"][:18] + "…"
        if c["comparison"] in ("decrease", "narrow"):
            figure = "未缩小 not narrowing"
        elif c["comparison"] == "trend" and c["value"] is not None:
            figure = "未呈缩小趋势 no narrowing trend (not below 2012, or slope ≥ 0)"
        elif c["value"] is None:
            figure = "无数据 no data"
        else:
            unit = c["unit"] or ""
            figure = f"{format_value(c['value'], unit)}, 目标 target {format_value(c['threshold'], unit)}"
        parts.append(f"标准{c['criterion']} {what}: {figure}")
    return "; ".join(parts)


def _threshold_text(criteria: list[dict], unit: str) -> str:
    first = criteria[0] if criteria else None
    if not first:
        return ""
    return NO_NUMBER.get(first["comparison"]) or format_value(_number(first["threshold"]), unit)


TARGET_COLUMNS = [Column("target", "目标", "target", "target"), Column("label", "简称", "short name")]


class _Targets:
    """The attainment rows of each target, indexed for the shaping below."""

    def __init__(self, data: dict):
        self.definitions: dict[str, list[dict]] = defaultdict(list)
        for d in data["definitions"]:
            self.definitions[d["target_id"]].append(d)
        self.ids = sorted(self.definitions, key=_target_order)
        self.rows: dict[tuple[str, str, str, int], dict] = {}
        self.by_target: dict[str, list[dict]] = defaultdict(list)
        for r in data["attainment"]:
            self.rows[r["target_id"], r["geography_level"], r["geography_code"], r["year"]] = r
            self.by_target[r["target_id"]].append(r)
        self.failing: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
        self.group_criteria: dict[tuple[str, int], list[dict]] = defaultdict(list)
        for c in data["criteria"]:
            if c["met"] is False:
                self.failing[c["target_id"], c["geography_code"], c["year"]].append(c)
            if c["geography_level"] != "county":
                self.group_criteria[c["target_id"], c["year"]].append(c)

    def head(self, target_id: str) -> dict:
        return self.definitions[target_id][0]

    def collected(self, target_id: str) -> bool:
        return any(d["collected"] for d in self.definitions[target_id])

    def total_level(self, target_id: str) -> str | None:
        return POPULATION_TOTAL.get(self.head(target_id)["population"])

    def unit(self, target_id: str) -> str:
        return next((r["unit"] for r in self.by_target[target_id] if r["unit"]), "")

    def total(self, target_id: str, year: int) -> dict | None:
        level = self.total_level(target_id)
        return next((r for r in self.by_target[target_id] if r["geography_level"] == level and r["year"] == year),
                    None)

    def counties(self, target_id: str, year: int) -> list[dict]:
        return [r for r in self.by_target[target_id] if r["geography_level"] == "county" and r["year"] == year]

    def years(self, target_id: str) -> list[int]:
        return sorted({r["year"] for r in self.by_target[target_id] if r["value"] is not None})


def _scorecard(t: _Targets, year: int) -> Dataset:
    rows = []
    for tid in t.ids:
        head, unit = t.head(tid), t.unit(tid)
        total = t.total(tid, year) if t.collected(tid) else None
        judged = [r for r in t.counties(tid, year) if r["met"] is not None]
        level = t.total_level(tid)
        rows.append({
            "target": tid, "label": head["label_zh"], "label_en": head["label_en"],
            "where": GROUP_NAMES.get(level or "", "各县 each county"),
            "value": total["value"] if total else None, "unit": unit,
            "threshold": (total["threshold"] if total and total["threshold"] is not None
                          else _threshold_text(t.definitions[tid], unit)),
            "met": total["met"] if total else None, "flags": flags(total),
            "why": _why_not_met(t.failing.get((tid, total["geography_code"], year), [])) if total else "",
            "counties_met": f"{sum(1 for r in judged if r['met'])} / {len(judged)}" if judged else "",
            "trend": total["trend"] if total else None,
            "trend_unit": "pp" if unit == "percent" else unit,
            "status": "" if t.collected(tid) else "报表未采集 templates carry no data",
        })
    return Dataset(f"scorecard-{year}", f"目标一览 scorecard {year}", [
        *TARGET_COLUMNS, Column("label_en", "英文简称", "short name (English)", shown=False),
        Column("where", "范围", "where"),
        Column("value", "数值", "value", "number", unit_key="unit", met_key="met", flags_key="flags"),
        Column("unit", "单位", "unit", shown=False),
        Column("threshold", "目标值", "threshold", "number", unit_key="unit"),
        Column("met", "达标", "verdict", "verdict"),
        Column("why", "未达标原因", "why not met"),
        Column("counties_met", "达标县", "counties met"),
        Column("trend", "同比", "vs last year", "number", unit_key="trend_unit"),
        Column("flags", "标记", "flags", shown=False),
        Column("status", "说明", "note"),
    ], rows)


def _kpis(t: _Targets, year: int, completeness: list[dict]) -> list[tuple[str, str, str]]:
    """Four figures a reader wants first; the targets-met tile says what it counts."""
    verdicts = {tid: (t.total(tid, year) or {}).get("met") for tid in t.ids
                if t.collected(tid) and t.total_level(tid) and t.total(tid, year) is not None}
    judged = [tid for tid, met in verdicts.items() if met is not None]
    met = [tid for tid in judged if verdicts[tid]]
    with_figures = [tid for tid in t.ids if t.collected(tid) and any(
        r["year"] == year and r["value"] is not None for r in t.by_target[tid])]
    unjudged = [tid for tid in with_figures if tid not in judged]
    tiles = [(f"目标达标 targets met {year}", f"{len(met)} / {len(judged)}",
              f"each target once, at the total of its population (29县, 12县 or 全省), among the {len(judged)} "
              f"with a verdict; {len(with_figures)} targets have figures for {year}"
              + (f", {', '.join(unjudged)} without a total verdict (report only, counties only, no data)"
                 if unjudged else "") + ". The counties met per target are in the scorecard.")]
    income = t.total("T1", year) if "T1" in t.definitions else None
    if income and income["value"] is not None:
        ratio = f"×{income['ratio_to_base']:.2f} vs 2012 · " if income.get("ratio_to_base") is not None else ""
        tiles.append((f"29县低收入农户人均纯收入 {year}", format_value(income["value"], "yuan"),
                      f"{ratio}target 10,000 元 and ×2"))
    relocation = t.total("R1", year) if "R1" in t.definitions else None
    if relocation and relocation["value"] is not None:
        tiles.append((f"29县异地搬迁 relocated {year}", format_value(relocation["value"], "persons") + " 人",
                      "target 60,000 people a year"))
    due = [r for r in completeness if r["year"] == year and r["submission_state"] != "not_due"]
    if due:
        on_time = sum(1 for r in due if r["submission_state"] == "on_time")
        tiles.append((f"按时报送 on time {year}", f"{100 * on_time / len(due):.1f}%",
                      f"{on_time} of {len(due)} files due, by the receipt date each file carries"))
    return tiles


def _group_table(t: _Targets, level: str, years: list[int]) -> Dataset:
    rows = []
    for tid in t.ids:
        by_year = {r["year"]: r for r in t.by_target[tid] if r["geography_level"] == level}
        if not by_year or all(r["value"] is None for r in by_year.values()):
            continue
        head = t.head(tid)
        row = {"target": tid, "label": head["label_zh"], "unit": t.unit(tid)}
        for y in years:
            r = by_year.get(y)
            row[f"v{y}"], row[f"m{y}"], row[f"f{y}"] = (r["value"], r["met"], flags(r)) if r else (None, None, "")
            row[f"unit{y}"] = (r["unit"] if r else None) or row["unit"]
        rows.append(row)
    columns = [*TARGET_COLUMNS, Column("unit", "单位", "unit", shown=False)]
    columns += [Column(f"v{y}", str(y), str(y), "number", unit_key=f"unit{y}", met_key=f"m{y}", flags_key=f"f{y}")
                for y in years]
    return Dataset(f"{level}-by-year", f"{GROUP_NAMES[level]} year by year", columns, rows)


def _county_dataset(t: _Targets, tid: str, year: int) -> Dataset:
    rows = []
    for r in sorted(t.counties(tid, year), key=lambda r: (r["value"] is None, -(r["value"] or 0), r["geography_code"])):
        rows.append({
            "county_code": r["geography_code"], "county": r["geography_name"] or r["geography_code"],
            "value": r["value"], "unit": r["unit"] or t.unit(tid), "threshold": r["threshold"],
            "met": r["met"], "flags": flags(r),
            "why": _why_not_met(t.failing.get((tid, r["geography_code"], year), [])) if r["met"] is False else "",
        })
    return Dataset(f"{tid}-counties-{year}", f"{tid} {year}: counties", [
        Column("county_code", "县代码", "county code", shown=False), Column("county", "县", "county"),
        Column("value", "数值", "value", "number", unit_key="unit", met_key="met", flags_key="flags"),
        Column("unit", "单位", "unit", shown=False),
        Column("threshold", "目标值", "threshold", "number", unit_key="unit"),
        Column("met", "达标", "verdict", "verdict"), Column("why", "未达标原因", "why not met"),
        Column("flags", "标记", "flags", shown=False),
    ], rows, county_key="county_code")


def _criteria_dataset(t: _Targets, tid: str, year: int) -> Dataset | None:
    if len(t.definitions[tid]) < 2:
        return None
    level = t.total_level(tid)
    rows = [{"criterion": c["criterion"], "description": c["description_zh"],
             "where": GROUP_NAMES.get(c["geography_level"], ""), "value": c["value"], "unit": c["unit"] or "",
             "threshold": c["threshold"] if c["threshold"] is not None else NO_NUMBER.get(c["comparison"], "—"),
             "met": c["met"] if c["comparison"] != "report" else None, "flags": flags(c)}
            for c in t.group_criteria.get((tid, year), [])
            if c["geography_level"] in (level, "group29", "group12", "province")]
    if not rows:
        return None
    return Dataset(f"{tid}-criteria-{year}", f"{tid} {year}: criteria", [
        Column("criterion", "#", "criterion"), Column("description", "考核指标", "criterion"),
        Column("where", "范围", "where"),
        Column("value", "数值", "value", "number", unit_key="unit", flags_key="flags"),
        Column("unit", "单位", "unit", shown=False),
        Column("threshold", "目标值", "threshold", "number", unit_key="unit"),
        Column("met", "达标", "verdict", "verdict"), Column("flags", "标记", "flags", shown=False),
    ], rows)


def _trend_dataset(t: _Targets, tid: str) -> tuple[Dataset, float | None]:
    level = t.total_level(tid)
    rows = []
    for lvl in ("group29", "group12", "province"):
        for r in t.by_target[tid]:
            if r["geography_level"] == lvl and r["value"] is not None:
                rows.append({"where": GROUP_NAMES[lvl], "level": lvl, "year": r["year"], "value": r["value"],
                             "unit": r["unit"] or t.unit(tid), "provisional": "P" if r["obs_status"] == "P" else "",
                             "on_track": r["on_track_value"] if lvl == level else None})
    threshold = next((r["threshold"] for r in t.by_target[tid]
                      if r["geography_level"] == level and r["threshold"] is not None), None)
    if threshold is None:
        threshold = next((r["threshold"] for r in t.by_target[tid]
                          if r["geography_level"] == "county" and r["threshold"] is not None), None)
    return Dataset(f"{tid}-trend", f"{tid}: the groups year by year", [
        Column("where", "范围", "where"), Column("year", "年度", "year"),
        Column("value", "数值", "value", "number", unit_key="unit"), Column("unit", "单位", "unit", shown=False),
        Column("provisional", "暂定", "provisional (P)"),
        Column("on_track", "进度值", "on-track path", "number", unit_key="unit"),
    ], rows), threshold


def _card(t: _Targets, tid: str) -> TargetCard:
    head = t.head(tid)
    card = TargetCard(tid, head["label_zh"], head["label_en"], head["description_zh"], head["description_en"],
                      head["population"], head["deadline_year"], t.unit(tid), None)
    if not t.collected(tid):
        card.reason = "The submission templates carry no data for this target."
        return card
    if not t.years(tid):
        card.reason = "No figures published yet."
        return card
    trend, threshold = _trend_dataset(t, tid)
    if trend.rows:   # a target judged county by county only (D1) has no group figures to draw
        card.trend, card.trend_threshold = trend, threshold
    level = t.total_level(tid)
    for year in t.years(tid):
        counties = _county_dataset(t, tid, year)
        judged = [r for r in counties.rows if r["met"] is not None]
        notes = [f"{sum(1 for r in judged if r['met'])} of {len(judged)} counties meet it in {year}."
                 if judged else f"Counties are not assessed one by one for {tid}; the columns show their parts."]
        flagged = [r["county"] for r in counties.rows
                   if r["met"] is False and r["value"] is not None and r["threshold"] is not None
                   and r["value"] >= r["threshold"]]
        if flagged:
            notes.append(f"Red although above the line ({'、'.join(flagged)}): another criterion of {tid} is not "
                         "met; the table says which.")
        hidden = sorted(r["county"] for r in counties.rows if "C" in r["flags"] or "D" in r["flags"])
        if hidden:
            notes.append("Suppressed (fewer than 5 households, or hidden with one): " + "、".join(hidden) + ".")
        missing = sum(1 for r in counties.rows if "M" in r["flags"])
        if missing:
            notes.append(f"{missing} counties sent no data for {year}.")
        total = t.total(tid, year)
        headline = None
        if total:
            headline = {"where": GROUP_NAMES.get(level or "", ""), "row": total, "flags": flags(total),
                        "why": _why_not_met(t.failing.get((tid, total["geography_code"], year), []))}
        threshold = next((r["threshold"] for r in counties.rows if r["threshold"] is not None), None)
        card.years[year] = TargetYear(year, counties, threshold, _criteria_dataset(t, tid, year), headline, notes)
    return card


def _completeness(rows: list[dict], year: int) -> tuple[Dataset | None, Dataset | None, Dataset | None]:
    rows = [r for r in rows if r["year"] == year]
    if not rows:
        return None, None, None
    names = {name: tpl.zh for name, tpl in templates().items()}
    order = [name for name in templates() if any(r["template"] == name for r in rows)]
    tally: dict[str, dict[str, int]] = {tpl: dict.fromkeys(STATE_LABEL, 0) for tpl in order}
    by_county: dict[str, dict] = {}
    for r in rows:
        tally[r["template"]][r["submission_state"]] += 1
        county = by_county.setdefault(r["county_code"], {"county_code": r["county_code"],
                                                         "county": r["county_name"] or r["county_code"]})
        extra = []
        if r["rejected_rows_pct"] is not None and float(r["rejected_rows_pct"]) > 0:
            extra.append(f'{float(r["rejected_rows_pct"]):.1f}% rows rejected')
        if r["days_late"]:
            extra.append(f'{r["days_late"]} days late')
        if r["forced_submissions"]:
            extra.append("forced submission (上报说明)")
        county[r["template"]] = r["submission_state"]
        county[f"{r['template']}_tip"] = (f"{county['county']} {r['template']} {year}: "
                                          f"{STATE_LABEL[r['submission_state']][1]}" + "".join(f"; {e}" for e in extra))
    tally_set = Dataset(f"completeness-summary-{year}", f"submissions {year} by template", [
        Column("template", "报表", "template"), Column("template_en", "template", "template", shown=False),
        *(Column(s, zh, en, "number", unit="count") for s, (zh, en) in STATE_LABEL.items())],
        [{"template": names.get(tpl, tpl), "template_en": tpl, **{s: float(n) for s, n in tally[tpl].items()}}
         for tpl in order])
    grid = Dataset(f"completeness-{year}", f"submissions {year} by county", [
        Column("county_code", "县代码", "county code"), Column("county", "县", "county"),
        *(Column(tpl, names.get(tpl, tpl), tpl, "state", tip_key=f"{tpl}_tip") for tpl in order)],
        [by_county[code] for code in sorted(by_county)], county_key="county_code")
    forced_rows = [{"county_code": r["county_code"], "county": r["county_name"] or "",
                    "template": names.get(r["template"], r["template"]), "files": float(r["forced_submissions"]),
                    "explanations": r["explanations"] or ""} for r in rows if r["forced_submissions"]]
    forced = Dataset(f"forced-{year}", f"forced submissions {year}", [
        Column("county_code", "县代码", "county code"), Column("county", "县", "county"),
        Column("template", "报表", "template"), Column("files", "文件数", "files", "number", unit="count"),
        Column("explanations", "上报说明", "explanation")], forced_rows, county_key="county_code") if forced_rows else None
    return tally_set, grid, forced


def _revisions(rows: list[dict], t: _Targets, year: int) -> Dataset:
    shown = [{"changed_at": local_time(r["changed_at"]), "target": r["subject_id"],
              "label": t.head(r["subject_id"])["label_zh"] if r["subject_id"] in t.definitions else "",
              "county_code": r["geography_code"], "where": r["geography_name"] or r["geography_code"],
              "previous_value": _number(r["previous_value"]), "value": _number(r["value"]), "unit": r["unit"] or "",
              "previous_met": r["previous_met"], "met": r["met"], "why": r["change_reason"]}
             for r in rows if r["year"] == year]
    return Dataset(f"revisions-{year}", f"revisions of {year} figures", [
        Column("changed_at", "发布时间", "published"), *TARGET_COLUMNS,
        Column("county_code", "地区代码", "geography code", shown=False), Column("where", "地区", "where"),
        Column("previous_value", "原值", "before", "number", unit_key="unit"),
        Column("value", "新值", "after", "number", unit_key="unit"), Column("unit", "单位", "unit", shown=False),
        Column("previous_met", "原达标", "verdict before", "verdict"), Column("met", "新达标", "verdict after", "verdict"),
        Column("why", "原因", "why"),
    ], shown, county_key="county_code")


def _differences(rows: list[dict], year: int) -> Dataset:
    shown = [{"check": r["description_zh"] or "", "check_en": r["description_en"] or "",
              "county_code": r["geography_code"], "where": r["geography_name"] or r["geography_code"],
              "left": _number(r["left_value"]), "right": _number(r["right_value"]),
              "difference": _number(r["relative_difference_pct"]), "tolerance": _number(r["tolerance_pct"])}
             for r in rows if r["year"] == year]
    return Dataset(f"reconciliation-{year}", f"reconciliation differences {year}", [
        Column("check", "核对", "check"), Column("check_en", "check", "check", shown=False),
        Column("county_code", "地区代码", "geography code", shown=False), Column("where", "地区", "where"),
        Column("left", "核对值", "checked", "number", unit="count"),
        Column("right", "参照值", "reference", "number", unit="count"),
        Column("difference", "差异%", "difference %", "number", unit="percent"),
        Column("tolerance", "容差%", "tolerance %", "number", unit="percent"),
    ], shown, county_key="county_code")


EVALUATION_CLASSES = ("group12", "group29_other", "developed", "other")


def _evaluation(rows: list[dict], year: int) -> list[Dataset]:
    """The classified evaluation of ``year``: a ranked table per class (counties without a score last)."""
    tables = []
    for cls in EVALUATION_CLASSES:
        mine = [r for r in rows if r["year"] == year and r["evaluation_class"] == cls]
        if not mine:
            continue
        shown = [{
            "rank": "" if r["rank_in_class"] is None else f"{r['rank_in_class']} / {r['counties_ranked_n']}",
            "county_code": r["county_code"], "county": r["county_name"] or r["county_code"],
            "score": r["score"], "weight_scored_pct": r["weight_scored_pct"],
            "scored": f"{r['targets_scored_n']} / {r['targets_n']}", "met_n": float(r["targets_met_n"]),
            "not_met": r["not_met"] or "", "suppressed": r["suppressed"] or "", "no_data": r["no_data"] or "",
        } for r in mine]
        tables.append(Dataset(f"evaluation-{cls}-{year}", f"{mine[0]['class_zh']} {mine[0]['class_en']} {year}", [
            Column("rank", "类别内排名", "rank in class"),
            Column("county_code", "县代码", "county code", shown=False), Column("county", "县", "county"),
            Column("score", "综合得分", "score", "number", unit="points"),
            Column("scored", "计分目标", "targets scored"),
            Column("weight_scored_pct", "权重覆盖", "weight scored", "number", unit="percent"),
            Column("met_n", "达标目标", "targets met", "number", unit="count"),
            Column("not_met", "未达标", "not met"),
            Column("suppressed", "保密(不计分)", "suppressed (not scored)"),
            Column("no_data", "无数据(不计分)", "no data (not scored)"),
        ], shown, county_key="county_code"))
    return tables


def shape(data: dict) -> ReportView:
    """The report's content, year by year, from the rows :func:`load` read."""
    t = _Targets(data)
    completeness = data["completeness"]
    years = sorted(set(data["years"]) | {r["year"] for r in completeness})
    default = max(data["years"]) if data["years"] else (max(years) if years else None)
    cities: dict[str, list[tuple[str, str]]] = {}
    for c in data["counties"]:
        cities.setdefault(c["city_name"] or "", []).append((c["geography_code"], c["geography_name"]))
    by_year = {}
    for year in years:
        tally, grid, forced = _completeness(completeness, year)
        by_year[year] = YearView(year, _kpis(t, year, completeness), _scorecard(t, year), tally, grid, forced,
                                 _revisions(data["revisions"], t, year), _differences(data["differences"], year),
                                 _evaluation(data.get("evaluation", []), year))
    evaluation = data.get("evaluation") or []
    return ReportView(
        plan=data["plan"], published_at=local_time(data["published_at"]) + " (Asia/Shanghai)",
        vintage=local_time(data["vintage"])[:10], years=years, default_year=default,
        counties=list(cities.items()),
        groups={level: _group_table(t, level, data["years"]) for level in ("group29", "group12")},
        cards=[_card(t, tid) for tid in t.ids], by_year=by_year,
        evaluation_formula=(evaluation[0]["formula_zh"], evaluation[0]["formula_en"]) if evaluation else None)
