"""The ``lowincome`` command. Errors a person can act on print as one line, exit code 2."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
import warnings
from pathlib import Path

from lowincome.config import redact, settings
from lowincome.errors import UserError


def _years(text: str) -> list[int]:
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            years = list(range(first, last + 1))
        else:
            years = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"years must look like 2012-2014 or 2012,2013, not {text!r}") from None
    if not years or min(years) < 2012 or max(years) > 2030:
        raise argparse.ArgumentTypeError("years must lie within 2012-2030")
    return years


def cmd_db(args: argparse.Namespace) -> int:
    cfg = settings()
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
    from lowincome.pipeline import run_nightly
    from lowincome.warehouse import ensure_server

    cfg = settings()
    ensure_server(cfg)  # first: a fresh embedded server may take another port than the default
    logfile = None if args.verbose else cfg.state_dir / "logs" / f"run-{time.strftime('%Y%m%dT%H%M%S')}.log"
    started = time.monotonic()
    print(f"running the nightly pipeline on {redact(cfg.warehouse_url())}"
          + (f" (Airflow output: {logfile})" if logfile else ""), flush=True)
    outcomes = run_nightly(cfg, landing=args.landing, logfile=logfile)
    for outcome in outcomes:
        print(f"  {outcome.dag_id:<28} {outcome.state:<8} {outcome.seconds:6.1f}s")
    print(f"nightly pipeline finished in {time.monotonic() - started:.0f}s")
    from lowincome.summary import print_summary

    print_summary(cfg)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from lowincome.generator import generate

    summary = generate(out=args.out, years=args.years, scale=args.scale, seed=args.seed,
                       counties=args.counties, fmt=args.format, messy=args.messy)
    print(summary)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from lowincome.warehouse import ensure_ready

    cfg = ensure_ready()
    from lowincome.ingest.runner import format_outcomes, ingest_folder

    outcomes = ingest_folder(args.folder, cfg=cfg, progress=not args.quiet)
    print(format_outcomes(outcomes))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from lowincome.warehouse import connect, ensure_ready

    cfg = ensure_ready()
    from lowincome.ingest.ledger import status_report

    with connect(cfg.warehouse_url()) as conn:
        print(status_report(conn, county=args.county, year=args.year))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """The accounting invariant: exit 0 when every received row and file is accounted for, else 1."""
    from lowincome.warehouse import connect, ensure_ready

    cfg = ensure_ready()
    from lowincome.accounting import accounted_files, violations

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
        try:
            services.wait()
            services.check()
        except KeyboardInterrupt:
            return 0
    return 0


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
        try:
            services.wait()
            services.check()
        except KeyboardInterrupt:
            return 0
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lowincome", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the warehouse server: start | stop | status | url")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.add_argument("--show-password", action="store_true", help="with url: print the password too")
    db.set_defaults(func=cmd_db)

    run = sub.add_parser("run", help="run the nightly pipeline once (every DAG, through dag.test())")
    run.add_argument("--landing", type=Path, help="landing folder (default $LOWINCOME_DATA_DIR/landing)")
    run.add_argument("--verbose", action="store_true", help="show Airflow's task output")
    run.set_defaults(func=cmd_run)

    gen = sub.add_parser("generate", help="write realistic sample county submissions")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--years", type=_years, default=_years("2012-2014"))
    gen.add_argument("--scale", type=float, default=0.002, help="1.0 = a full province (~1M households)")
    gen.add_argument("--seed", type=int, default=2013)
    gen.add_argument("--counties", nargs="*", help="county codes or names (default: all)")
    gen.add_argument("--format", choices=["csv", "xlsx", "mixed"], default="mixed")
    gen.add_argument("--messy", action="store_true", help="mix in real-world faults at known places")
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="ingest a folder of county files now (the DAG's code)")
    ing.add_argument("folder", type=Path)
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.set_defaults(func=cmd_ingest)

    st = sub.add_parser("status", help="the ledger: what arrived, what is missing, what was rejected")
    st.add_argument("--county")
    st.add_argument("--year", type=int)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not os.environ.get("LOWINCOME_DEBUG"):
        # Library deprecation and environment warnings are for developers, not for the person at the prompt.
        warnings.filterwarnings("ignore")
    try:
        return args.func(args)
    except UserError as err:
        print(f"lowincome: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lowincome: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
