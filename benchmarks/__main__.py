"""``python -m benchmarks [--scale S | --quick] [--only SECTION ...] [--out DIR]`` (``make bench``)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import math
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

from benchmarks import SECTIONS

QUICK_SCALE = 0.02
# A smoke run keeps the nightly sections small: a file costs about a second whatever its size, so a
# province (~510 files a year, ~2,550 for five) would take most of an hour even at a tiny scale.
QUICK_NIGHT_COUNTIES = 6
QUICK_FIVE_YEAR_COUNTIES = 3
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
# Section name -> module; each module has run(bench) -> list[Result] and needs(bench) -> str | None.
MODULES = {
    "ingest": "benchmarks.throughput",
    "sqlnormalise": "benchmarks.sql_normalise",
    "perfile": "benchmarks.per_file",
    "memory": "benchmarks.memory",
    "night": "benchmarks.night",
    "first-night": "benchmarks.first_night",
    "incremental": "benchmarks.incremental",
    "marts": "benchmarks.mart_latency",
    "disclosure": "benchmarks.disclosure",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what is wrong, and where to look."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (all) or more, not {text!r}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", type=_positive, default=1.0,
                      help="1.0 = a province-year (1,000,000 households); default 1.0")
    size.add_argument("--quick", action="store_true",
                      help=f"a smoke run at scale {QUICK_SCALE}, night on {QUICK_NIGHT_COUNTIES} counties and the "
                           f"five-year warehouse on {QUICK_FIVE_YEAR_COUNTIES} unless given")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default benchmarks/out)")
    parser.add_argument("--workloads", type=Path, default=DEFAULT_OUT / "workloads",
                        help="where generated input files are cached between runs (default benchmarks/out/workloads)")
    parser.add_argument("--five-year-scale", type=_positive, default=None,
                        help="scale of the five-year warehouse of the incremental and marts sections "
                             "(default: the run's scale)")
    parser.add_argument("--night-counties", type=_count, default=None, metavar="N",
                        help="night and first-night sections on an even spread of N counties instead of the province "
                             "(default: all)")
    parser.add_argument("--five-year-counties", type=_count, default=None, metavar="N",
                        help="keep only an even spread of N counties in the five-year warehouse (default: all)")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale = QUICK_SCALE
    for name, quick in (("night_counties", QUICK_NIGHT_COUNTIES), ("five_year_counties", QUICK_FIVE_YEAR_COUNTIES)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else 0)
    return args


def run_sections(bench, sections: list[str]) -> list:
    from benchmarks.harness import Result

    results: list[Result] = []
    for name in sections:
        bench.log(f"[{name}]")
        started = time.perf_counter()
        measure = name
        try:
            module = importlib.import_module(MODULES[name])
            measure = module.MEASURE
            missing = module.needs(bench)
            if missing:
                bench.log(f"  skipped: {missing}")
                results.append(Result(section=name, measure=measure, skipped=missing))
                continue
            results += module.run(bench)
        except Exception as err:  # noqa: BLE001 - one failing section must not hide the others
            log = bench.out / "logs" / f"{name}.error.txt"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc())
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            bench.log(f"  failed: {first} (traceback: {log})")
            results.append(Result(section=name, measure=measure, error=f"{type(err).__name__}: {first}"))
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
                  five_year_scale=args.five_year_scale or args.scale, five_year_counties=args.five_year_counties,
                  night_counties=args.night_counties, workloads_root=args.workloads.resolve())
    started = dt.datetime.now().astimezone()
    bench.start()
    from benchmarks import report

    meta = {"started_at": started.isoformat(timespec="seconds"),
            "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
            "scale": args.scale, "five_year_scale": bench.five_year_scale,
            "five_year_counties": args.five_year_counties or "all",
            "night_counties": args.night_counties or "all", "sections": sections,
            "machine": report.machine(bench.server_version()),
            "database": bench.warehouse_db}
    log(f"benchmarks at scale {args.scale} on database {bench.warehouse_db} "
        f"(PostgreSQL {meta['machine']['postgresql']}); outputs in {out}")
    # stdout is the table's: what the sections' libraries print (structlog's validation lines, dbt) goes
    # to stderr with the progress log.
    with contextlib.redirect_stdout(sys.stderr):
        results = run_sections(bench, sections)
    meta["finished_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    meta["wall_seconds"] = round((dt.datetime.now().astimezone() - started).total_seconds())
    print(report.text_table(results))
    json_path, md_path = report.write(out, results, meta)
    log(f"\nwrote {json_path} and {md_path}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
