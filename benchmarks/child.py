"""A child process that ingests one landing folder and reports time and peak memory as JSON.

``python -m benchmarks.child <folder> [--profile FILE]`` with the bench environment inherited. The
modules a long-running worker has loaded anyway (ingestion, GX) are imported before the clock starts,
so the time is the files' own cost; the import is timed separately. Peak RSS is the process's own
high-water mark, imports included: ``VmHWM`` of /proc/self/status, which belongs to the address space
this process execs into. Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the parent's resident
size at fork into it across ``exec``, so a child of a big benchmark process reported the parent's size
(712 MiB for a 25,000-row file after the nightly sections, 441 MiB for 100,000 rows before them).
A big CSV or workbook is parsed by two processes (:mod:`lowincome.speedups.two_cores` starts a helper, a fresh
interpreter that shares no pages with this one): the largest helper's whole peak is added, so the figure is
what the ingestion holds in both processes at their peaks.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB (VmHWM; ru_maxrss where /proc is missing)."""
    from lowincome.speedups.two_cores import status_kib

    return status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def helpers_growth_kib() -> int:
    """The largest parsing helper's peak resident set size (KiB; a fresh interpreter, nothing shared)."""
    from lowincome.speedups.two_cores import helper_growth_kib

    return max(helper_growth_kib, default=0)


def dag_steps(folder: Path, cfg) -> tuple[list[dict], dict[str, float]]:
    """The ingest DAG's task callables in order, in this process: outcomes and seconds per step.

    The DAG parses, validates and loads in separate tasks, so each step's time is its own; the CLI
    (``ingest_folder``) instead validates while the load already writes the rows.
    """
    from lowincome.ingest.pipeline import load_batch, parse_batch, plan_batches, split_waves, validate_batch

    spent = {"plan": 0.0, "parse": 0.0, "validate": 0.0, "load": 0.0}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        spent[step] += now - clock
        clock = now

    batches = plan_batches(f"bench__{time.time_ns()}", landing=str(folder), cfg=cfg)
    lap("plan")
    parsed = [parse_batch(batch, cfg) for batch in batches]
    lap("parse")
    waves = split_waves(batches, parsed)
    outcomes: list[dict] = []
    for wave in ("registers", "dependents"):
        for county in waves[wave]:
            validated = validate_batch(county, cfg)
            lap("validate")
            outcomes += load_batch(validated, cfg)["outcomes"]
            lap("load")
    return outcomes, {step: round(value, 3) for step, value in spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats of the ingest here")
    parser.add_argument("--dag-steps", action="store_true",
                        help="run the nightly DAG's steps one after the other (parse, validate, load: no overlap) "
                             "instead of ingest_folder, and time each")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from lowincome.config import settings
    from lowincome.ingest.pipeline import ingest_folder
    from lowincome.quality.context import gx

    gx()
    imported = time.perf_counter() - started
    rss_before = peak_rss_kib()
    cfg = settings()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    clock_started_at = time.time()
    started = time.perf_counter()
    steps = None
    if args.dag_steps:
        outcomes, steps = dag_steps(args.folder, cfg)
    else:
        outcomes = [o.to_dict() for o in ingest_folder(args.folder, cfg)]
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    report = {
        "seconds": seconds,
        "clock_started_at": clock_started_at,
        "import_seconds": imported,
        "maxrss_kib": peak_rss_kib() + helpers_growth_kib(),
        "maxrss_helpers_kib": helpers_growth_kib(),
        "maxrss_after_import_kib": rss_before,
        "outcomes": outcomes,
        "steps": steps,
    }
    sys.stdout.write("BENCH-RESULT " + json.dumps(report, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
