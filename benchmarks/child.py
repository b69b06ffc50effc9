"""A child process that ingests one landing folder and reports time and peak memory as JSON.

``python -m benchmarks.child <folder> [--profile FILE]`` with the bench environment inherited. The
modules a long-running worker has loaded anyway (ingestion, GX) are imported before the clock starts,
so the time is the files' own cost; the import is timed separately. Peak RSS is the process's own
high-water mark, imports included: ``VmHWM`` of /proc/self/status, which belongs to the address space
this process execs into. Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the parent's resident
size at fork into it across ``exec``, so a child of a big benchmark process reported the parent's size
(712 MiB for a 25,000-row file after the nightly sections, 441 MiB for 100,000 rows before them).
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
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats of the ingest here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from lowincome.config import settings
    from lowincome.ingest.runner import ingest_folder
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
    outcomes = ingest_folder(args.folder, cfg)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    report = {
        "seconds": seconds,
        "clock_started_at": clock_started_at,
        "import_seconds": imported,
        "maxrss_kib": peak_rss_kib(),
        "maxrss_after_import_kib": rss_before,
        "outcomes": [o.to_dict() for o in outcomes],
    }
    sys.stdout.write("BENCH-RESULT " + json.dumps(report, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
