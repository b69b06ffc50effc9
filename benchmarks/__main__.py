"""``python -m benchmarks [--scale S | --quick] [--only SECTION ...] [--out DIR]`` (``make bench``)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
import time
import traceback
from pathlib import Path

from benchmarks import SECTIONS

QUICK_SCALE = 0.02
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
# Section name -> module; each module has run(bench) -> list[Result] and needs(bench) -> str | None.
MODULES = {
    "ingest": "benchmarks.throughput",
    "perfile": "benchmarks.per_file",
    "memory": "benchmarks.memory",
    "night": "benchmarks.night",
    "incremental": "benchmarks.incremental",
    "marts": "benchmarks.mart_latency",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1.0 = a province-year (1,000,000 households); default 1.0")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run at scale {QUICK_SCALE}")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default benchmarks/out)")
    parser.add_argument("--five-year-scale", type=float, default=None,
                        help="scale of the five-year warehouse of the incremental and marts sections "
                             "(default: the run's scale)")
    parser.add_argument("--five-year-counties", type=int, default=0, metavar="N",
                        help="keep only an even spread of N counties in the five-year warehouse (default: all)")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale = QUICK_SCALE
    if not args.scale > 0:
        parser.error("--scale must be positive")
    return args


def run_sections(bench, sections: list[str]) -> list:
    from benchmarks.harness import Result

    results: list[Result] = []
    for name in sections:
        module = importlib.import_module(MODULES[name])
        bench.log(f"[{name}]")
        started = time.perf_counter()
        missing = module.needs(bench)
        if missing:
            bench.log(f"  skipped: {missing}")
            results.append(Result(section=name, measure=module.MEASURE, skipped=missing))
            continue
        try:
            results += module.run(bench)
        except Exception as err:  # noqa: BLE001 - one failing section must not hide the others
            log = bench.out / "logs" / f"{name}.error.txt"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc())
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            bench.log(f"  failed: {first} (traceback: {log})")
            results.append(Result(section=name, measure=module.MEASURE, error=f"{type(err).__name__}: {first}"))
        bench.log(f"  ({time.perf_counter() - started:.0f}s)")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    sections = [s for s in SECTIONS if not args.only or s in args.only]
    # Everything below points at the bench databases; this must precede any Airflow import.
    from benchmarks.harness import Bench

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    bench = Bench(out=out, scale=args.scale, quick=args.quick, log=log,
                  five_year_scale=args.five_year_scale or args.scale, five_year_counties=args.five_year_counties)
    started = dt.datetime.now().astimezone()
    bench.start()
    from benchmarks import report

    meta = {"started_at": started.isoformat(timespec="seconds"),
            "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
            "scale": args.scale, "five_year_scale": bench.five_year_scale,
            "five_year_counties": args.five_year_counties or "all", "sections": sections,
            "machine": report.machine(bench.server_version()),
            "database": bench.warehouse_db}
    log(f"benchmarks at scale {args.scale} on database {bench.warehouse_db} "
        f"(PostgreSQL {meta['machine']['postgresql']}); outputs in {out}")
    results = run_sections(bench, sections)
    meta["finished_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    meta["wall_seconds"] = round((dt.datetime.now().astimezone() - started).total_seconds())
    print(report.text_table(results))
    json_path, md_path = report.write(out, results, meta)
    log(f"\nwrote {json_path} and {md_path}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
