"""Section ``memory``: peak RSS of ingesting one register file of 250k, 500k and 1M rows (× scale).

Each size is ingested by ``ingest_folder`` in a fresh child process (:mod:`benchmarks.child`) on an
empty warehouse; the figure is the child's own high-water mark (``VmHWM``), imports included, plus the
peak of the helper process that parses the second half of a big CSV (:mod:`lowincome.speedups.two_cores`),
so it is what a task needs. CSV and XLSX separately: a CSV streams, a workbook is held by
calamine while it is read. Target: < 1 GiB at 1M rows, and flat in the file's size (here: the 1M peak
at most 1.25× the 250k one; the issue gives no number for "flat").
"""

from __future__ import annotations

from benchmarks import workloads
from benchmarks.harness import Bench, Goal, Result, missing_module, require_loaded, run_child
from benchmarks.throughput import rows_at

SECTION = "memory"
MEASURE = "ingestion peak RSS"
SHARES = (0.25, 0.5, 1.0)
LIMIT_MIB = 1024.0
FLAT = 1.25


def needs(bench: Bench) -> str | None:
    return missing_module("lowincome.ingest.pipeline") or missing_module("lowincome.quality")


def peak_mib(bench: Bench, fmt: str, rows: int) -> tuple[float, dict]:
    key = ("rss", fmt, rows)
    if key in bench.measured:
        return bench.measured[key]
    path = (workloads.register_csv if fmt == "csv" else workloads.register_xlsx)(bench.workloads_dir, rows)
    bench.reset_warehouse()
    landing = bench.scratch(f"memory-{fmt}-{rows}")
    workloads.stage([path], landing)
    report = run_child(bench, landing, label=f"memory-{fmt}-{rows}")
    require_loaded(report["outcomes"], rows, f"{fmt} {rows} rows")
    found = (report["maxrss_kib"] / 1024, {"seconds": report["seconds"],
                                           "after_import_mib": report["maxrss_after_import_kib"] / 1024})
    bench.measured[key] = found
    return found


def run(bench: Bench) -> list[Result]:
    full = rows_at(bench.scale)
    results = []
    for fmt in ("csv", "xlsx"):
        peaks = {}
        for share in SHARES:
            rows = round(full * share)
            bench.log(f"  {fmt} {rows:,} rows")
            peaks[rows], _info = peak_mib(bench, fmt, rows)
            bench.log(f"    peak {peaks[rows]:,.0f} MiB")
        sizes = sorted(peaks)
        largest, smallest = peaks[sizes[-1]], peaks[sizes[0]]
        growth = largest / smallest
        series = ", ".join(f"{r:,}: {peaks[r]:,.0f}" for r in sizes)
        results.append(Result(
            SECTION, f"{fmt.upper()} peak RSS ({sizes[-1]:,} rows)", largest, "MiB", "1 GiB limit", LIMIT_MIB,
            largest / LIMIT_MIB, goal=Goal("<", 1.0),
            note=f"MiB by rows {series}", details={"peaks_mib": peaks}))
        results.append(Result(
            SECTION, f"{fmt.upper()} peak RSS growth ({sizes[0]:,} to {sizes[-1]:,} rows)", largest, "MiB",
            f"peak at {sizes[0]:,} rows", smallest, growth, goal=Goal("≤", FLAT, f"{FLAT} (flat; derived)"),
            note=f"the issue asks for flat, gives no number; {FLAT}x for {sizes[-1] // max(1, sizes[0])}x the rows",
            details={"growth": growth}))
    return results
