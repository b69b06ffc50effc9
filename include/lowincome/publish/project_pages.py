"""The plan's 公告公示: a static public page per county of its projects and funds, beside the report.

``$LOWINCOME_DATA_DIR/reports/public/<county_code>.html`` for every county with a project list in
``marts.project_disclosure``, and ``public/index.html`` listing them by city. Meant to be published as
they are (a web server's static folder, a county's site): no login, no script, no request to anything
but the page itself (the Content-Security-Policy forbids it), and no personal data - the mart holds
none (projects name villages, never households) and no figure computed from households. Each page
shows, year by year, the county's totals (projects, allocated and disbursed, disbursement rate, the two
flags) and every project with its village, type, source of funds and amounts; what the flags mean is
written on the page in Chinese and English.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from psycopg.rows import dict_row

from lowincome.config import Settings
from lowincome.warehouse import connect

FOLDER = "public"
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
_ENV = Environment(loader=PackageLoader("lowincome.publish", "templates"), autoescape=True,
                   undefined=StrictUndefined)


def yuan(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


_ENV.filters.update(yuan=yuan, percent=percent)


@dataclass
class YearOfProjects:
    year: int
    projects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def allocated(self) -> Decimal:
        return sum((p["amount_allocated"] for p in self.projects), Decimal(0))

    @property
    def disbursed(self) -> Decimal:
        return sum((p["amount_disbursed"] for p in self.projects), Decimal(0))

    @property
    def rate(self) -> Decimal | None:
        """Disbursed / allocated over the year's projects, % (one decimal)."""
        return round(100 * self.disbursed / self.allocated, 1) if self.allocated else None

    @property
    def not_announced(self) -> int:
        return sum(p["not_announced"] for p in self.projects)

    @property
    def disbursed_early(self) -> int:
        return sum(p["disbursed_before_announcement_ended"] for p in self.projects)


@dataclass
class CountyPage:
    county_code: str
    county_name: str
    city_code: str
    years: list[YearOfProjects]
    vintage: datetime

    @property
    def file_name(self) -> str:
        return f"{self.county_code}.html"


def load_pages(conn) -> list[CountyPage]:
    """Every county's projects from the published mart, newest year first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("select * from marts.project_disclosure order by county_code, year desc, project_id").fetchall()
    pages: dict[str, CountyPage] = {}
    for row in rows:
        page = pages.get(row["county_code"])
        if page is None:
            page = pages[row["county_code"]] = CountyPage(row["county_code"], row["county_name"] or row["county_code"],
                                                           row["city_code"] or "", [], row["vintage"])
        if not page.years or page.years[-1].year != row["year"]:
            page.years.append(YearOfProjects(row["year"]))
        page.years[-1].projects.append(row)
        page.vintage = max(page.vintage, row["vintage"])
    return list(pages.values())


def _style() -> Markup:
    source, _name, _uptodate = _ENV.loader.get_source(_ENV, "public.css")
    return Markup(source)


def render_page(page: CountyPage) -> str:
    return _ENV.get_template("project_page.html.j2").render(
        page=page, style=_style(), vintage=page.vintage.astimezone(LOCAL_TIME).strftime("%Y-%m-%d"))


def render_index(pages: list[CountyPage]) -> str:
    return _ENV.get_template("project_index.html.j2").render(pages=pages, style=_style())


def write_project_pages(cfg: Settings) -> Path | None:
    """Write ``reports/public/`` from ``marts.project_disclosure``; returns its index (None: no such mart
    yet, nothing written). Pages of counties no longer in the mart are removed."""
    with connect(cfg.warehouse_url()) as conn:
        if not conn.execute("select to_regclass('marts.project_disclosure') is not null").fetchone()[0]:
            return None
        pages = load_pages(conn)
    folder = cfg.reports_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written = {"index.html"}
    for page in pages:
        _write(folder / page.file_name, render_page(page))
        written.add(page.file_name)
    _write(folder / "index.html", render_index(pages))
    for old in folder.glob("*.html"):
        if old.name not in written:
            old.unlink()
    return folder / "index.html"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
