"""Realistic, deterministic sample county submissions (the files counties send the province).

``generate(out, years)`` writes, for every county and year, one file per template (households,
household_income, relocations, program_participation, villages, county_indicators, and from 2013 on
project_funds, see :mod:`.projects`), plus one province_indicators file per year, named
``{county_code}_{template}_{year}.csv|xlsx``. Counties differ in format, encoding and header wording the way real ones do (see :mod:`.styles`); with ``messy=True``
deliberate faults are mixed in and listed in ``out/_faults.json`` (see :mod:`.messy`). Each file carries
a plausible receipt date around its reporting deadline as its modification time, and a few county
indicators are resubmitted with a correction (see :mod:`.receipts`).

The same arguments always give byte-identical files, however the work is split. Counties are generated
one at a time (on larger runs in forked worker processes, one per core up to 4), so memory stays at a
county's worth of rows per process.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import multiprocessing.context
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lowincome.errors import UserError
from lowincome.generator.counties import PROVINCE_CODE, County, select_counties
from lowincome.generator.economy import BASE_YEAR, county_economy
from lowincome.generator.households import HouseholdPanel
from lowincome.generator.indicators import (
    county_indicators_table,
    match_participation,
    province_indicators_table,
)
from lowincome.generator.messy import CountyYearFaults, Fault, FaultPlan, Output, plan_faults
from lowincome.generator.projects import county_habits, project_funds_table, sends
from lowincome.generator.receipts import receipt_time, resubmission_time, resubmitted, stamp
from lowincome.generator.styles import FORMATS, PROVINCE_STYLE, county_styles
from lowincome.generator.villages import village_roster, villages_table
from lowincome.generator.writers import file_name, write_table

__all__ = ["COUNTY_TEMPLATES", "FAULTS_FILE", "Fault", "GenerateSummary", "generate", "sends"]

COUNTY_TEMPLATES = ("households", "household_income", "relocations", "program_participation", "villages",
                    "county_indicators", "project_funds")
FAULTS_FILE = "_faults.json"
PROJECT_FUNDS = "project_funds"
# Below this many county-year file sets, starting worker processes costs more than it saves.
PARALLEL_MIN_COUNTY_YEARS = 40


@dataclass
class GenerateSummary:
    out: Path
    years: list[int]
    counties: int
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # data rows written, per template
    faults: list[Fault] = field(default_factory=list)

    def __str__(self) -> str:
        contiguous = len(self.years) > 2 and self.years == list(range(self.years[0], self.years[-1] + 1))
        years = f"{self.years[0]}-{self.years[-1]}" if contiguous else ", ".join(map(str, self.years))
        formats = Counter(p.suffix.lstrip(".") for p in self.files)
        lines = [f"wrote {len(self.files)} files to {self.out} ({self.counties} counties, {years}; "
                 + ", ".join(f"{n} {ext}" for ext, n in sorted(formats.items())) + ")"]
        width = max((len(t) for t in self.rows), default=0)
        for name, count in self.rows.items():
            lines.append(f"  {name:<{width}}  {count:>10,} rows")
        if self.faults:
            by_outcome = Counter(f.expected for f in self.faults)
            lines.append(f"  {len(self.faults)} deliberate faults ("
                         + ", ".join(f"{n} {k}" for k, n in sorted(by_outcome.items()))
                         + f"), listed in {self.out / FAULTS_FILE}")
        return "\n".join(lines)


def generate(
    out: Path,
    years: Sequence[int],
    scale: float = 0.002,
    seed: int = 2013,
    counties: Sequence[str] | None = None,
    fmt: str = "mixed",
    messy: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateSummary:
    """Write sample submissions into ``out``; see the module docstring. ``progress(done, total)`` after each
    county."""
    out = Path(out)
    years = sorted(set(int(y) for y in years))
    if not years or years[0] < BASE_YEAR or years[-1] > 2030:
        raise UserError(f"years must lie within {BASE_YEAR}-2030, got {years or 'none'}")
    if fmt not in FORMATS:
        raise UserError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not scale > 0:
        raise UserError(f"scale must be positive (1.0 = a full province), not {scale}")
    chosen = select_counties(counties)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_faults(chosen, years, seed) if messy else FaultPlan()
    jobs = [(county, years, scale, seed, fmt, plan, out) for county in chosen]
    summary = GenerateSummary(out=out, years=years, counties=len(chosen))
    rows: Counter[str] = Counter()
    workers = _worker_count(len(chosen) * len(years))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_fork_context()) as pool:
            results = _counted(pool.map(_generate_county_job, jobs, chunksize=1), len(jobs), progress)
    else:
        results = _counted(map(_generate_county_job, jobs), len(jobs), progress)
    for files, county_rows, faults in results:
        summary.files += files
        rows.update(county_rows)
        summary.faults += faults
    for year in years:
        table = province_indicators_table(year)
        style = PROVINCE_STYLE.with_changes(fmt="xlsx") if fmt == "xlsx" else PROVINCE_STYLE
        path = out / file_name(PROVINCE_CODE, table.template.name, year, style.fmt)
        summary.files.append(write_table(table, style, path))
        stamp(path, receipt_time(seed, PROVINCE_CODE, table.template.name, year))
        rows[table.template.name] += table.data_rows
    summary.rows = {name: rows[name] for name in (*COUNTY_TEMPLATES, "province_indicators") if name in rows}
    summary.files.sort()
    summary.faults.sort(key=lambda f: (f.file, f.row or 0, f.kind))
    if messy:
        listing = json.dumps([f.to_json() for f in summary.faults], ensure_ascii=False, indent=1)
        (out / FAULTS_FILE).write_text(listing + "\n", encoding="utf-8")
    return summary


CORRECTED = "_更正"


def _correction(first: Output) -> Output:
    """The county indicators sent again weeks later with one figure corrected (the rural road length)."""
    table = first.table
    rows = [list(r) for r in table.rows]
    at = table.columns.index("rural_road_km")
    rows[0][at] = round(rows[0][at] + 1.5, 1)
    corrected = dataclasses.replace(table, rows=rows, non_data=set())
    stem, suffix = first.name.rsplit(".", 1)
    return Output(f"{stem}{CORRECTED}.{suffix}", first.template, first.county_code, first.year, corrected,
                  first.style, first.layout, regular=False)


def _worker_count(county_years: int) -> int:
    if county_years < PARALLEL_MIN_COUNTY_YEARS or _fork_context() is None:
        return 1
    if multiprocessing.current_process().daemon:  # some task runners' processes may not start children
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, 4))


def _fork_context() -> multiprocessing.context.BaseContext | None:
    """Forked workers start at once (no re-import); where fork is unavailable, run in one process."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def _generate_county_job(job: tuple) -> tuple[list[Path], Counter[str], list[Fault]]:
    return generate_county(*job)


def _counted(results: Iterable, total: int, progress: Callable[[int, int], None] | None) -> list:
    """The results as a list, ``progress`` told after each."""
    out = []
    for result in results:
        out.append(result)
        if progress is not None:
            progress(len(out), total)
    return out


def generate_county(county: County, years: list[int], scale: float, seed: int, fmt: str, plan: FaultPlan,
                    out: Path) -> tuple[list[Path], Counter[str], list[Fault]]:
    """All of one county's files for ``years``; the panel is always simulated from 2012 on."""
    style = county_styles(seed, fmt)[county.code]
    economy = county_economy(county, seed)
    roster = village_roster(county, scale, seed)
    panel = HouseholdPanel(county, economy, roster, scale, seed)
    funds_style, fiscal_words = county_habits(county, seed, style)
    files: list[Path] = []
    rows: Counter[str] = Counter()
    faults: list[Fault] = []
    wanted = set(years)
    for year in range(BASE_YEAR, years[-1] + 1):
        panel.advance()
        if year not in wanted:
            continue
        tables = {
            "households": panel.households_table(),
            "household_income": panel.income_table(),
            "relocations": panel.relocations_table(),
            "program_participation": panel.programs_table(english_codes=style.english_programs),
            "villages": villages_table(county, roster, year, seed),
            "county_indicators": county_indicators_table(county, economy, year, seed),
        }
        match_participation(tables["county_indicators"], tables["program_participation"], seed)
        if sends(PROJECT_FUNDS, year):
            tables[PROJECT_FUNDS] = project_funds_table(county, roster, year, seed, fiscal_words)
        outputs = {
            name: Output(file_name(county.code, name, year, style.fmt), name, county.code, year, table,
                         funds_style if name == PROJECT_FUNDS else style)
            for name, table in tables.items()
        }
        extras: list[Output] = []
        kinds = plan.kinds(county.code, year)
        if kinds:
            extras = CountyYearFaults(county, year, kinds, seed, years).apply(outputs)
        elif resubmitted(seed, county.code, year):
            extras = [_correction(outputs["county_indicators"])]
        arrivals = {name: receipt_time(seed, county.code, name, year) for name in outputs}
        for output in [*outputs.values(), *extras]:
            path = out / output.name
            if output.raw is not None:
                path.write_bytes(output.raw)
            else:
                write_table(output.table, output.style, path, output.layout)
            if output.name.endswith(CORRECTED + path.suffix):
                stamp(path, resubmission_time(seed, county.code, year, arrivals["county_indicators"]))
            else:
                stamp(path, arrivals.get(output.template) if output.regular else
                      receipt_time(seed, county.code, output.template, year, output.name))
            if output.regular:
                rows[output.template] += output.table.data_rows
            files.append(path)
            faults += output.faults()
        del tables, outputs, extras
    return files, rows, faults
