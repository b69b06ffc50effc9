"""Section ``marts``: latency of the queries a dashboard sends to ``marts.target_attainment``.

On the five-year warehouse (built by the incremental section, or here when run alone), through one
connection (a dashboard pools them) with ``set role lowincome_bi`` (the BI tools' role, so the marts'
row-level security is evaluated as for a dashboard), 100 runs of each query, parameters rotating over
the counties / targets / years present:

* one county's targets over time: ``where geography_level = 'county' and geography_code = $1``;
* all counties for one target and year: ``where geography_level = 'county' and target_id = $1 and year = $2``.

Round-trip time (execute + fetch) per run; median and p95. Target: median < 50 ms.
"""

from __future__ import annotations

import time

from benchmarks.harness import Bench, Goal, Result, median, percentile
from benchmarks.incremental import five_year_warehouse
from benchmarks.night import needs as night_needs

SECTION = "marts"
MEASURE = "mart query latency"
RUNS = 100
TARGET_MS = 50.0
BI_ROLE = "lowincome_bi"

QUERIES = {
    "one county's targets over time": (
        "select plan, target_id, year, value, threshold, met, on_track, obs_status, vintage "
        "from marts.target_attainment where geography_level = 'county' and geography_code = %s "
        "order by plan, target_id, year"),
    "all counties for one target and year": (
        "select geography_code, geography_name, value, threshold, met, gap_to_threshold, obs_status "
        "from marts.target_attainment where geography_level = 'county' and target_id = %s and year = %s "
        "order by geography_code"),
}


def needs(bench: Bench) -> str | None:
    return night_needs(bench)


def run(bench: Bench) -> list[Result]:
    built = five_year_warehouse(bench)
    results = []
    with bench.connect() as conn:
        present = conn.execute("select to_regclass('marts.target_attainment') is not null").fetchone()[0]
        if not present:
            raise RuntimeError("marts.target_attainment was not built by the night")
        rows = conn.execute("select count(*) from marts.target_attainment").fetchone()[0]
        counties = [r[0] for r in conn.execute(
            "select distinct geography_code from marts.target_attainment where geography_level = 'county' "
            "order by 1").fetchall()]
        cells = conn.execute(
            "select distinct target_id, year from marts.target_attainment where geography_level = 'county' "
            "order by 1, 2").fetchall()
        if not counties or not cells:
            raise RuntimeError("marts.target_attainment has no county rows")
        role = conn.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone()
        if role:
            conn.execute(f"set role {BI_ROLE}")
        who = BI_ROLE if role else "the warehouse owner (no BI role on this server)"
        params = {
            "one county's targets over time": [(counties[i % len(counties)],) for i in range(RUNS)],
            "all counties for one target and year": [cells[i % len(cells)] for i in range(RUNS)],
        }
        for name, query in QUERIES.items():
            conn.execute(query, params[name][0]).fetchall()  # plan cached, pages warm: a dashboard's steady state
            times = []
            returned = 0
            for args in params[name]:
                started = time.perf_counter()
                returned += len(conn.execute(query, args).fetchall())
                times.append((time.perf_counter() - started) * 1000)
            mid, p95 = median(times), percentile(times, 0.95)
            results.append(Result(
                SECTION, f"{name}: median", mid, "ms", "50 ms target", TARGET_MS, mid / TARGET_MS, goal=Goal("<", 1.0),
                note=f"p95 {p95:.1f} ms, max {max(times):.1f} ms; {returned / RUNS:.0f} rows per query; "
                     f"as {who}; target_attainment holds {rows:,} rows (5 years at scale {built['scale']:g})",
                details={"p95_ms": p95, "times_ms": times}))
    return results
