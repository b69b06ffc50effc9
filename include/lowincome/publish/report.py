"""The monitoring report: ``$LOWINCOME_DATA_DIR/reports/index.html`` and the CSV files of its tables.

The content comes from the published marts (lowincome.publish.report_data: SQL and shaping); this
module renders it with Jinja2 templates (``templates/``, autoescaped) and writes the files. The page
is self-contained and offline: charts are inline SVG (lowincome.publish.charts), the style and the one
small script (the year and county filters) are inline, the Content-Security-Policy forbids every
other load. Every table and chart links its rows as ``data-<digest>/<name>.csv`` beside the page
(UTF-8 with a byte-order mark so that Excel reads the Chinese), written from the same rows the page
shows; the folder is named by its content and the previous one is removed once the new page is in
place, so a page never links a file of another night.

Why no charting library: the only one installed (Altair, with Great Expectations) draws through
Vega-Embed fetched from a CDN, its wheel ships no Vega script; vendoring Vega (~1 MB of JavaScript)
would add a dependency and a script per chart, while the filters need only to show and hide what is
already drawn (~30 lines of script).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.publish import charts
from lowincome.publish.project_pages import write_project_pages
from lowincome.publish.report_data import (
    GROUP_NAMES,
    POPULATION_LABEL,
    STATE_LABEL,
    ReportView,
    load,
    shape,
)
from lowincome.warehouse import connect

FLAG_TITLES = {"P": "provisional: reporting deadline not passed", "R": "revised after a resubmission",
               "M": "no data received", "C": "suppressed: fewer than 5 households",
               "D": "suppressed: hidden so that no suppressed figure can be recovered"}
PALETTE = {name: getattr(charts, name) for name in ("GRID", "MUTED", "INK", "THRESHOLD", "PATH", "NOT_MET")}

_ENV = Environment(loader=PackageLoader("lowincome.publish", "templates"), autoescape=True,
                   undefined=StrictUndefined, trim_blocks=False)
_ENV.globals.update(fmt=charts.format_value, FLAG_TITLES=FLAG_TITLES, POPULATION_LABEL=POPULATION_LABEL,
                    STATE_LABEL=STATE_LABEL, palette=PALETTE)


def write_report(cfg: Settings) -> Path:
    """Render the report from the marts into ``reports/index.html`` and its CSV files; returns its path."""
    with connect(cfg.warehouse_url()) as conn:
        if not conn.execute("select to_regclass('marts.target_attainment') is not null").fetchone()[0]:
            raise UserError("the marts are not built yet; run `lowincome run` (or the publish_monitoring DAG) first")
        view = shape(load(conn))
    files = csv_files(view)
    digest = hashlib.sha256(b"".join(name.encode() + body for name, body in sorted(files.items()))).hexdigest()
    folder_name = f"data-{digest[:12]}"
    out = cfg.reports_dir
    out.mkdir(parents=True, exist_ok=True)
    folder = out / folder_name
    if not folder.is_dir():
        staging = out / f".{folder_name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, body in files.items():
            (staging / name).write_bytes(body)
        os.replace(staging, folder)
    target = out / "index.html"
    tmp = out / ".index.html.tmp"
    tmp.write_text(render(view, folder_name), encoding="utf-8")
    os.replace(tmp, target)
    for old in out.glob("data-*"):
        if old.is_dir() and old.name != folder_name:
            shutil.rmtree(old, ignore_errors=True)
    write_project_pages(cfg)   # the public 公告公示 pages beside it: reports/public/
    return target


def csv_files(view: ReportView) -> dict[str, bytes]:
    """``<slug>.csv`` of every dataset the page shows: a header row (Chinese and English), then its rows."""
    files = {}
    for dataset in view.datasets():
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(dataset.csv_header())
        writer.writerows(dataset.csv_rows())
        files[f"{dataset.slug}.csv"] = text.getvalue().encode("utf-8-sig")
    return files


def _charts(view: ReportView) -> tuple[dict[str, charts.CountyChart], dict[str, charts.TrendChart]]:
    county_charts, trend_charts = {}, {}
    for card in view.cards:
        for year, ty in card.years.items():
            bars = [charts.Bar(r["county"], r["value"], r["met"],
                               " · ".join(p for p in (
                                   {True: "met", False: "not met"}.get(r["met"], "no verdict"),
                                   f"flags {r['flags']}" if r["flags"] else "",
                                   r["why"]) if p), r["county_code"])
                    for r in ty.counties.rows]
            county_charts[ty.counties.slug] = charts.county_columns(
                bars, unit=card.unit, threshold=ty.threshold,
                title=f"{card.target_id} {card.label_zh} {year}: counties against the threshold")
        if card.trend is None:
            continue
        levels = list(dict.fromkeys(r["level"] for r in card.trend.rows))
        series = [charts.Series(GROUP_NAMES[level], [(r["year"], r["value"], r["provisional"] == "P")
                                                     for r in card.trend.rows if r["level"] == level],
                                charts.SERIES[i % len(charts.SERIES)]) for i, level in enumerate(levels)]
        path = [(r["year"], r["on_track"]) for r in card.trend.rows if r["on_track"] is not None]
        trend_charts[card.target_id] = charts.trend(
            series, unit=card.unit, threshold=card.trend_threshold, path=path, years=view.years,
            title=f"{card.target_id} {card.label_zh}: the groups year by year")
    return county_charts, trend_charts


def _template_text(name: str) -> str:
    source, _filename, _uptodate = _ENV.loader.get_source(_ENV, name)
    return source


def render(view: ReportView, csv_dir: str = "data") -> str:
    """The page's HTML (the CSV files are linked under ``csv_dir``)."""
    script = _template_text("report.js")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    county_charts, trend_charts = _charts(view)
    return _ENV.get_template("report.html.j2").render(
        view=view, csv_dir=csv_dir, county_charts=county_charts, trend_charts=trend_charts,
        style=Markup(_template_text("report.css")), script=Markup(script), script_hash=script_hash)
