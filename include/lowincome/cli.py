"""The lowincome command: the nightly pipeline of the county submissions, and its ledger. Errors a person
can act on print as one line, exit code 2."""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
import time
import warnings
from pathlib import Path

from lowincome.config import redact, settings
from lowincome.errors import UserError

FIRST_YEAR, LAST_YEAR = 2012, 2030   # the plan's base year; the last a template may carry


class _Parser(argparse.ArgumentParser):
    """argparse's documented extension point: a usage error is one line, exit code 2, like every other."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a year looks like 2014, not {text!r}") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return year


def _folder(path: Path | None, what: str) -> Path | None:
    """``path`` when it is a folder, else a one-line error saying what is wrong with it."""
    if path is not None and not path.is_dir():
        raise UserError(f"{what} {path} {'is not a folder' if path.exists() else 'does not exist'}")
    return path


def _years(text: str) -> list[int]:
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            years = list(range(first, last + 1))
        else:
            years = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"years must look like 2012-2014 or 2012,2013, not {text!r}") from None
    if not years or min(years) < FIRST_YEAR or max(years) > LAST_YEAR:
        raise argparse.ArgumentTypeError(f"years {text} must lie within {FIRST_YEAR}-{LAST_YEAR}")
    return years


def cmd_db(args: argparse.Namespace) -> int:
    cfg = settings()
    if args.action != "psql" and (args.role or args.psql_commands):
        raise UserError("--role and -c go with `lowincome db psql` only")
    if args.action == "psql":
        from lowincome.psql import run_psql

        return run_psql(cfg, args.role, args.psql_commands or [])
    if args.action == "url":
        print(cfg.warehouse_url() if args.show_password else redact(cfg.warehouse_url()))
        return 0
    if not cfg.embedded:
        if args.action == "status":
            from lowincome.warehouse import connect

            with connect(cfg.warehouse_url()) as conn:
                version = conn.execute("show server_version").fetchone()[0]
            print(f"external warehouse: reachable, PostgreSQL {version} at {redact(cfg.warehouse_url())}")
            return 0
        if args.action == "start":
            from lowincome.warehouse import ensure_ready

            ensure_ready(cfg)
            print(f"external warehouse ready at {redact(cfg.warehouse_url())}")
            return 0
        raise UserError("LOWINCOME_WAREHOUSE_URL points at an external server; lowincome does not stop it")
    from lowincome.embedded import EmbeddedServer

    server = EmbeddedServer(cfg)
    if args.action == "start":
        from lowincome.warehouse import ensure_ready

        ensure_ready(cfg)
        print(server.status().describe())
        print(f"connect with: {redact(cfg.warehouse_url())}  (`lowincome db url --show-password` for the full URL)")
    elif args.action == "stop":
        server.stop()
        print(server.status().describe())
    else:
        print(server.status().describe())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The night: a line per finished task as it goes (Airflow's output in a log file unless --verbose),
    then per DAG its state and time, per county its files loaded and rejected, and where everything is."""
    from lowincome import airflow_env
    from lowincome.ingest.files import arrivals
    from lowincome.pipeline import missing_landing, run_nightly
    from lowincome.warehouse import ensure_ready

    # first: a fresh embedded server may take another port than the default, and a server too old for the
    # warehouse, or a database not created yet, is settled before anything reads the warehouse's clock
    cfg = ensure_ready(settings())
    landing = args.landing or cfg.landing_dir
    why = missing_landing(landing)
    if why:
        raise UserError(why)
    airflow_env.apply(cfg)   # before Airflow is imported (lowincome.progress imports its listener marker)
    from lowincome import progress, summary, task_lines

    logfile = None if args.verbose else cfg.state_dir / "logs" / f"run-{time.strftime('%Y%m%dT%H%M%S')}.log"
    started = time.monotonic()
    waiting = len(arrivals(landing))
    out = progress.Lines(progress.real_stdout())
    if not args.quiet:
        out.line(f"running the nightly pipeline on {redact(cfg.warehouse_url())}: {waiting} file(s) waiting in "
                 f"{landing}" + (f" (Airflow output: {logfile})" if logfile else ""))
        out.line(task_lines.task_line("DAG", "task", "state", 0).replace("    0.0s", " seconds"))
    since = summary.warehouse_now(cfg)
    try:
        outcomes = run_nightly(cfg, landing=args.landing, logfile=logfile,
                               listener=task_lines.TaskLines(out, quiet=args.quiet))
    finally:
        out.done()
    took = time.monotonic() - started
    with summary.connect(cfg.warehouse_url()) as conn:
        counts = summary.night_counts(conn, since)
    files = {s: sum(c.get(s, 0) for c in counts.values()) for s in ("loaded", "rejected")}
    news = (f"{sum(sum(c.values()) for c in counts.values())} file(s): {files['loaded']} loaded, "
            f"{files['rejected']} rejected" if waiting else f"nothing new: no files were waiting in {landing}")
    if args.quiet:
        print(f"nightly pipeline: {len(outcomes)} DAGs succeeded in {took:.0f}s; {news}")
        return 0
    print("\nDAGs:")
    for outcome in outcomes:
        print(f"  {outcome.dag_id:<28} {outcome.state:<8} {outcome.seconds:6.1f}s")
    print("\nThis night's files, per county (ops.submissions):")
    print("\n".join(summary.county_lines(counts)))
    summary.print_summary(cfg)
    print(f"\nnightly pipeline finished in {took:.0f}s; {news}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from lowincome import progress
    from lowincome.generator import generate

    out = args.out or settings().landing_dir   # where `lowincome run` reads (LOWINCOME_DATA_DIR)
    lines = progress.Lines(sys.stderr)

    def counties_done(done: int, total: int) -> None:
        text = f"generate: {done}/{total} counties written"
        if lines.terminal:
            lines.status(text)
        elif done == total or done % max(1, total // 10) == 0:
            lines.line(text)

    try:
        summary = generate(out=out, years=args.years, scale=args.scale, seed=args.seed, counties=args.counties,
                           fmt=args.format, messy=args.messy, progress=counties_done)
    finally:
        lines.done()
    print(summary)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from lowincome.warehouse import ensure_ready

    _folder(args.folder, "folder")
    cfg = ensure_ready()
    from lowincome.ingest.account import format_outcomes
    from lowincome.ingest.pipeline import ingest_folder

    outcomes = ingest_folder(args.folder, cfg=cfg, progress=not args.quiet)
    print(format_outcomes(outcomes))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from lowincome.ingest.account import resolve_county, status_report
    from lowincome.warehouse import connect, ensure_ready

    resolve_county(args.county)   # an unknown county: one line before the warehouse is even started
    cfg = ensure_ready()
    with connect(cfg.warehouse_url()) as conn:
        print(status_report(conn, county=args.county, year=args.year))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """The accounting invariant: exit 0 when every received row and file is accounted for, else 1."""
    from lowincome.warehouse import connect, ensure_ready

    cfg = ensure_ready()
    from lowincome.accounting import accounted_files, violations

    for folder in args.landing or []:
        _folder(folder, "landing folder")

    with connect(cfg.warehouse_url()) as conn:
        problems = violations(conn, cfg, waiting=args.landing or [])
        files = accounted_files(conn)
    if problems:
        print(f"accounting: {len(problems)} broken promise(s)")
        for line in problems:
            print(f"  {line}")
        return 1
    print(f"accounting: every row of {files} files is accounted for")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """Airflow itself (api-server, scheduler, dag-processor, triggerer) on the project's warehouse."""
    from lowincome import airflow_env
    from lowincome.pipeline import prepare
    from lowincome.services import start_airflow

    os.environ["AIRFLOW__API__PORT"] = str(args.port)   # Airflow's own setting; the execution API follows it
    cfg = settings()
    prepare(cfg)
    host = airflow_env.ui_host()
    shown = "localhost" if host in airflow_env.LOOPBACK else host
    log_dir = cfg.airflow_home / "services"
    services = start_airflow(cfg, log_dir)
    print(f"Airflow on http://{shown}:{args.port} (listening on {host}; user {airflow_env.ADMIN_USER}, password in "
          f"{airflow_env.admin_password_file(cfg)}); each service's output in {log_dir}. Ctrl-C stops every part.",
          flush=True)
    with services:
        return _until_stopped(services)


def cmd_worker(args: argparse.Namespace) -> int:
    """A Celery worker of this warehouse's Airflow (CeleryExecutor), on this machine or another one."""
    from lowincome import airflow_env
    from lowincome.pipeline import prepare
    from lowincome.services import WORKER_NAME, Services, command, environment

    if os.environ.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor" or not os.environ.get(
            "AIRFLOW__CELERY__BROKER_URL"):
        raise UserError("a Celery worker needs AIRFLOW__CORE__EXECUTOR=CeleryExecutor and AIRFLOW__CELERY__BROKER_URL "
                        "(the README's \"Celery workers on other machines\")")
    os.environ["AIRFLOW__API__PORT"] = str(args.ui_port)
    cfg = settings()
    prepare(cfg)
    name = args.name or socket.getfqdn()
    log_dir = cfg.airflow_home / "services"
    env = environment(cfg, {WORKER_NAME: name,
                            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "lowincome.services.worker_hostname"})
    with Services(env, log_dir) as services:
        services.start(f"worker-{name}", command("celery-worker", worker=name, concurrency=args.concurrency))
        print(f"Celery worker {name} (concurrency {args.concurrency}) for the Airflow at "
              f"{env['AIRFLOW__CORE__EXECUTION_API_SERVER_URL']}; output in {services.log(f'worker-{name}')}; "
              f"{'no log server' if airflow_env.ui_is_local() else 'task logs served on port 8793'}. "
              "Ctrl-C stops it.", flush=True)
        return _until_stopped(services)


def _until_stopped(services) -> int:
    """Wait on running services until one ends (an error if it failed) or Ctrl-C; the caller's block stops them."""
    try:
        services.wait()
        services.check()
    except KeyboardInterrupt:
        pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lowincome", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the warehouse server: start | stop | status | url | psql",
                        description="The warehouse server. psql: a psql session on the warehouse (the client "
                                    "matching the embedded server), e.g. lowincome db psql --role lowincome_bi "
                                    "-c '\\dt *.*'")
    db.add_argument("action", choices=["start", "stop", "status", "url", "psql"])
    db.add_argument("--show-password", action="store_true", help="with url: print the password too")
    db.add_argument("--role", help="with psql: SET ROLE to this role first, to see what it sees "
                                   "(lowincome_bi, lowincome_county_330803, …)")
    db.add_argument("-c", "--command", action="append", dest="psql_commands", metavar="COMMAND",
                    help="with psql: run this (SQL or a backslash command) and exit, like psql -c; repeatable")
    db.set_defaults(func=cmd_db)

    run = sub.add_parser("run", help="run the nightly pipeline once (every DAG, through dag.test())",
                         description="Run the nightly pipeline once: a line per finished task, then a summary.")
    run.add_argument("--landing", type=Path, help="landing folder (default $LOWINCOME_DATA_DIR/landing)")
    shown = run.add_mutually_exclusive_group()
    shown.add_argument("--verbose", action="store_true", help="show Airflow's task output too (else in a log file)")
    shown.add_argument("--quiet", action="store_true", help="for cron: failed tasks and a final one-line summary only")
    run.set_defaults(func=cmd_run)

    gen = sub.add_parser("generate", help="write realistic sample county submissions")
    gen.add_argument("--out", type=Path, help="folder to write to (default $LOWINCOME_DATA_DIR/landing, where "
                                             "lowincome run reads)")
    gen.add_argument("--years", type=_years, default=_years("2012-2014"), help="2012-2014 or 2012,2014")
    gen.add_argument("--scale", type=float, default=0.002, help="1.0 = a full province (~1M households)")
    gen.add_argument("--seed", type=int, default=2013)
    gen.add_argument("--counties", nargs="*", help="county codes or names (default: all)")
    gen.add_argument("--format", choices=["csv", "xlsx", "mixed"], default="mixed")
    gen.add_argument("--messy", action="store_true", help="mix in real-world faults at known places")
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="ingest a folder of county files now (the DAG's code)")
    ing.add_argument("folder", type=Path, help="the folder of county files to ingest (e.g. $LOWINCOME_DATA_DIR/landing)")
    ing.add_argument("--quiet", action="store_true", help="no progress (a bar on a terminal, else lines)")
    ing.set_defaults(func=cmd_ingest)

    st = sub.add_parser("status", help="the ledger: what arrived, what is missing, what was rejected")
    st.add_argument("--county", help="a county's code or name (330803, 衢江区, 衢江), or 330000 for the province")
    st.add_argument("--year", type=_year, help=f"one year, {FIRST_YEAR}-{LAST_YEAR}")
    st.set_defaults(func=cmd_status)

    chk = sub.add_parser("check", help="the accounting invariant: every received row and file is accounted for")
    chk.add_argument("--landing", type=Path, action="append",
                     help="a landing folder besides the default whose files are still to be ingested")
    chk.set_defaults(func=cmd_check)

    ui = sub.add_parser("ui", help="start Airflow (api-server, scheduler, dag-processor, triggerer)")
    ui.add_argument("--port", type=int, default=8080, help="the UI's port (it binds LOWINCOME_UI_HOST, else 127.0.0.1)")
    ui.set_defaults(func=cmd_ui)

    wk = sub.add_parser("worker", help="a Celery worker (CeleryExecutor), on this machine or another one")
    wk.add_argument("--name", help="the worker's name, recorded on the task instances it runs (default: the host's)")
    wk.add_argument("--concurrency", type=int, default=2, help="task processes at a time")
    wk.add_argument("--ui-port", type=int, default=8080, help="the port of the UI whose execution API tasks call")
    wk.set_defaults(func=cmd_worker)

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


# Commands that live with their own code: each module has add_commands(sub), which adds its subparsers.
COMMAND_MODULES = (
    "lowincome.portal.commands",   # lowincome portal, lowincome portal-user
    "lowincome.publish.sdmx",      # lowincome export sdmx
)


SIGPIPE_EXIT = 141   # 128 + SIGPIPE: what a shell reports for a command whose reader went away


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not os.environ.get("LOWINCOME_DEBUG"):
        # Library deprecation and environment warnings are for developers, not for the person at the prompt.
        warnings.filterwarnings("ignore")
    try:
        code = args.func(args)
        sys.stdout.flush()   # here, not at exit: a reader gone (`lowincome status | head`) is caught below
        return code
    except BrokenPipeError:
        # Python's documented way (library/signal.html, "Note on SIGPIPE"): what is still buffered goes to
        # /dev/null, so the flush at exit raises nothing either; quietly, the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return SIGPIPE_EXIT
    except UserError as err:
        print(f"lowincome: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lowincome: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
