"""Section ``night``: one full night for a province-year, through the production path.

``lowincome.pipeline.run_nightly`` (what ``lowincome run`` does: the three DAGs, each through Airflow's
``dag.test()``, in order) on a landing folder holding a generated province-year (all ~90 counties'
files, CSV and XLSX mixed), on an empty warehouse. Shares of the night from Airflow's metadata
(``task_instance`` start/end of every task of the three runs): ingest (everything of the ingest DAG
but validation), validate, dbt build (build_warehouse), marts (refresh_marts), publish (grants, docs,
report); Airflow's own overhead = the night's wall time − Σ task time (DAG parsing, scheduling the
task instances, dag.test's bookkeeping; our bootstrap is in it too, about a second).

Targets: the night < 10 minutes; Airflow's overhead < 10% of it.

Also reported (no target): the bytes of the validation Data Docs the night published, per file
received: its result pages and the index (``lowincome.quality.docs.docs_bytes``); the static assets
(jQuery, Bootstrap, Font Awesome, GX's images, the same for any site) and the suites' pages beside it.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import workloads
from benchmarks.harness import (
    NIGHT_BUDGET_SECONDS,
    Bench,
    Goal,
    Result,
    county_spread,
    missing_module,
    run_dags,
    task_timings,
)
from benchmarks.per_file import dag_maps_ingestion
from lowincome.pipeline import NIGHTLY_DAGS
from lowincome.quality.docs import docs_bytes

SECTION = "night"
MEASURE = "full night, province-year"
YEAR = 2013
OVERHEAD_TARGET = 0.10


def needs(bench: Bench) -> str | None:
    for dag_id in NIGHTLY_DAGS:
        if not (bench.cfg.dags_dir / f"{dag_id}.py").exists():
            return f"dags/{dag_id}.py is not in the code yet"
    return (dag_maps_ingestion(bench) or missing_module("lowincome.transform")
            or missing_module("lowincome.publish"))


def stage_of(dag_id: str, task_id: str) -> str:
    if dag_id == "ingest_county_submissions":
        return "validate" if "validate" in task_id else "ingest"
    if dag_id == "build_warehouse":
        return "dbt build"
    if dag_id == "publish_monitoring":
        return "marts" if "mart" in task_id and "secure" not in task_id else "publish"
    return "other"


def night(bench: Bench, landing: Path, label: str) -> dict:
    """Run the night on ``landing``; wall time, per-DAG time and per-stage task time."""
    wall, outcomes = run_dags(bench, landing, NIGHTLY_DAGS, label)
    stages: dict[str, float] = {}
    tasks = []
    for outcome in outcomes:
        for t in task_timings(bench, outcome.dag_id, outcome.run_id):
            stages[stage_of(t.dag_id, t.task_id)] = stages.get(stage_of(t.dag_id, t.task_id), 0.0) + t.seconds
            tasks.append(t)
    busy = sum(stages.values())
    return {"wall": wall, "dags": {o.dag_id: o.seconds for o in outcomes}, "stages": stages,
            "task_seconds": busy, "task_instances": len(tasks), "airflow_overhead": wall - busy,
            "slowest_tasks": sorted(((t.seconds, f"{t.dag_id}.{t.task_id}[{t.map_index}]") for t in tasks),
                                    reverse=True)[:10]}


def run(bench: Bench) -> list[Result]:
    counties = county_spread(bench.night_counties)
    source = workloads.province(bench.workloads_dir, [YEAR], bench.scale, counties)
    rows = workloads.province_rows(source)
    landing = bench.scratch("night")
    files = workloads.stage(source, landing)
    bench.reset_warehouse()
    bench.prepare_airflow()
    bench.log(f"  run_nightly on {len(files)} files, {sum(rows.values()):,} rows (scale {bench.scale})")
    found = night(bench, landing, "night")
    with bench.connect() as conn:
        loaded = conn.execute("select count(*), coalesce(sum(rows_loaded), 0) from ops.submissions "
                              "where status = 'loaded'").fetchone()
    wall = found["wall"]
    overhead = found["airflow_overhead"] / wall
    shares = ", ".join(f"{name} {seconds / wall:.0%}" for name, seconds in
                       sorted(found["stages"].items(), key=lambda kv: -kv[1]))
    found.update(files=len(files), files_loaded=loaded[0], rows_loaded=loaded[1], rows_generated=rows)
    docs = docs_bytes(bench.cfg.docs_dir / "validation")
    per_file = (docs["results"] + docs["index"]) / len(files) if files else 0.0
    found["validation_docs_bytes"] = docs
    return [
        Result(SECTION, f"night wall time (scale {bench.scale:g}, {len(files)} files"
               + (f", {len(counties)} counties only)" if counties else ")"), wall, "s",
               "10-minute budget", NIGHT_BUDGET_SECONDS, wall / NIGHT_BUDGET_SECONDS, goal=Goal("≤", 1.0),
               note=f"{shares}, Airflow {overhead:.0%}; {loaded[0]} files loaded, {loaded[1]:,} rows",
               details=found),
        Result(SECTION, "Airflow's own overhead", found["airflow_overhead"], "s", "night wall time", wall, overhead,
               goal=Goal("<", OVERHEAD_TARGET),
               note=f"{found['task_instances']} task instances; wall {wall:.0f}s, in tasks {found['task_seconds']:.0f}s"),
        Result(SECTION, "validation Data Docs per file received", per_file / 1000, "KB",
               note=f"{docs['pages']} result pages {docs['results'] / 1e6:.1f} MB, index {docs['index'] / 1e3:.0f} KB; "
                    f"beside them suites {docs['suites'] / 1e3:.0f} KB and static assets {docs['static'] / 1e6:.1f} MB "
                    "(the same for any night)", details=docs),
    ]
