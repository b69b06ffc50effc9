"""Section ``first night``: the first load of several years costs what it loads (issue 22).

Every office starts with a backfill of the years before the platform. Two nights through the production
path (``lowincome.pipeline.run_nightly``, the three DAGs through ``dag.test()``), each on an empty
warehouse, on the same generated counties and scale (``--night-counties`` and ``--scale``, as the
night section): the first year alone (2012), then the three years 2012-2014 at once. The files of the
one-year night are the 2012 files of the three-year set.

Target: three years cost at most 3.5× one year. A night costs per file (ingestion, validation) and per
dbt node, and the three-year set holds ~3× the files and rows of one year, so 3.5× leaves room for the
build's fixed cost while catching any join that grows faster than the rows: the first three-year night
of the province at scale 0.02 took 31 minutes, 23 of them in one model (nested loops planned on tables
without statistics, macros/statistics.sql).
"""

from __future__ import annotations

from benchmarks import workloads
from benchmarks.harness import Bench, Goal, Result, county_spread
from benchmarks.night import needs as night_needs
from benchmarks.night import night

SECTION = "first-night"
MEASURE = "first night: three years at once vs one year"
YEARS = [2012, 2013, 2014]
GOAL = Goal("≤", 3.5)


def needs(bench: Bench) -> str | None:
    return night_needs(bench)


def first_night(bench: Bench, source, years: list[int], label: str) -> dict:
    """``run_nightly`` on an empty warehouse with the files of ``years`` from ``source``."""
    landing = bench.scratch(label)
    files = workloads.stage(source, landing, years=years)
    bench.reset_warehouse()
    bench.prepare_airflow()
    bench.log(f"  {label}: run_nightly on {len(files)} files ({years[0]}-{years[-1]}) on an empty warehouse")
    found = night(bench, landing, label)
    with bench.connect() as conn:
        loaded = conn.execute("select count(*), coalesce(sum(rows_loaded), 0) from ops.submissions "
                              "where status = 'loaded'").fetchone()
    found.update(files=len(files), files_loaded=loaded[0], rows_loaded=loaded[1])
    if loaded[0] != len(files):
        raise RuntimeError(f"{label}: {loaded[0]} of {len(files)} files loaded (see out/logs/{label}.log)")
    bench.log(f"    {found['wall']:.0f}s; build_warehouse {found['dags'].get('build_warehouse', 0):.0f}s")
    return found


def run(bench: Bench) -> list[Result]:
    counties = county_spread(bench.night_counties)
    source = workloads.province(bench.workloads_dir, YEARS, bench.scale, counties)
    one = first_night(bench, source, YEARS[:1], "first-night-1y")
    three = first_night(bench, source, YEARS, "first-night-3y")
    where = f"{len(counties)} counties" if counties else "all counties"
    build_one = one["dags"].get("build_warehouse", 0.0)
    build_three = three["dags"].get("build_warehouse", 0.0)
    slowest = three["slowest_tasks"][0] if three["slowest_tasks"] else (0.0, "-")
    return [
        Result(SECTION, f"three years at once vs one year ({where}, scale {bench.scale:g}; "
               f"{three['files']} vs {one['files']} files)", three["wall"], "s",
               "one year's first night", one["wall"], three["wall"] / one["wall"], goal=GOAL,
               note=f"rows {three['rows_loaded']:,} vs {one['rows_loaded']:,} "
                    f"({three['rows_loaded'] / max(one['rows_loaded'], 1):.2f}×); slowest task of the three "
                    f"years: {slowest[1]} {slowest[0]:.0f}s",
               details={"one_year": one, "three_years": three}),
        Result(SECTION, "build_warehouse: three years vs one year", build_three, "s",
               "one year's build_warehouse", build_one, build_three / build_one if build_one else None),
    ]
