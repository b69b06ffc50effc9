"""What every section shares: the bench databases, the environment, results and skips.

The benchmarks never touch the demo warehouse. :class:`Bench` points every component (ingestion, GX,
dbt, Airflow's ``dag.test()``) at a database of its own on the server in use (the embedded one, or
``LOWINCOME_WAREHOUSE_URL``'s) through the same environment variables the platform reads, before
Airflow is imported, and drops and creates that database again whenever a section needs a clean one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from lowincome.config import Settings, with_database

BENCH_DB = "lowincome_bench"
AIRFLOW_BENCH_DB = "airflow_bench"
# Pseudonyms in the bench database are keyed afresh for each run: nothing here is real data, and no
# key, even a throwaway one, is written into the repository.
# Pseudonyms in the bench warehouse: a fresh key per run, unless LOWINCOME_BENCH_HMAC_KEY names one (to run
# more nights by hand on the warehouse a run left behind, the files must be keyed as they were loaded).
BENCH_HMAC_KEY = os.environ.get("LOWINCOME_BENCH_HMAC_KEY") or secrets.token_hex(32)
NIGHT_BUDGET_SECONDS = 600.0


class Skip(Exception):  # noqa: N818 - a skip is an outcome, not an error
    """A section cannot run yet: the message names the part of the project it needs."""


RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "≤": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "≥": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Goal:
    """A target on a ratio: met when ``ratio <relation> bound`` (``label`` writes the bound, e.g. "1/3")."""

    relation: str
    bound: float
    label: str = ""

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {' '.join(RELATIONS)}, not {self.relation!r}")

    @property
    def text(self) -> str:
        return f"{self.relation} {self.label or f'{self.bound:g}'}"

    def met(self, ratio: float) -> bool:
        return RELATIONS[self.relation](ratio, self.bound)


@dataclass
class Result:
    """One row of the table: the project's figure beside its reference, the ratio and the target.

    With a ``goal`` the verdict is the goal applied to ``ratio`` (met / missed), unless ``passed`` is
    given; without one the row is for information.
    """

    section: str
    measure: str
    value: float | None = None
    unit: str = ""
    reference: str = ""
    reference_value: float | None = None
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None          # None: informational, skipped, or no ratio to judge
    note: str = ""
    skipped: str | None = None          # why the section did not run (names the missing part)
    error: str | None = None            # the section ran and failed: no number, the reason
    details: dict[str, Any] = field(default_factory=dict)
    goal: Goal | None = None

    def __post_init__(self) -> None:
        if self.goal is not None:
            self.target = self.target or self.goal.text
            if self.passed is None and self.ratio is not None and not (self.error or self.skipped):
                self.passed = self.goal.met(self.ratio)

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        if self.skipped:
            return "SKIP"
        if self.passed is None:
            return "no ratio" if self.goal is not None else "info"
        return "met" if self.passed else "missed"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status
        return out


def skipped(section: str, measure: str, reason: str) -> Result:
    return Result(section=section, measure=measure, skipped=reason)


@dataclass
class Timer:
    seconds: float = 0.0


@contextlib.contextmanager
def timed() -> Iterator[Timer]:
    timer = Timer()
    started = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 100 runs is the 95th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass
class Bench:
    """The run: scale, output folder, and the databases everything is pointed at."""

    out: Path
    scale: float
    quick: bool = False
    five_year_scale: float | None = None        # the incremental/marts warehouse (None: scale)
    five_year_counties: int = 0                 # 0: all counties
    night_counties: int = 0                     # 0: all counties (a province-year); tests use a few
    workloads_root: Path | None = None          # generated inputs (default: <out>/workloads)
    warehouse_db: str = BENCH_DB
    airflow_db: str | None = AIRFLOW_BENCH_DB   # None: keep the Airflow metadata database already configured
    log: Callable[[str], None] = print
    base_url: str = ""
    # What a section left in the bench database for a later one (cleared with the warehouse).
    state: dict[str, Any] = field(default_factory=dict)
    # Measurements a later section may reuse instead of repeating them (kept for the whole run).
    measured: dict[Any, Any] = field(default_factory=dict)
    _started: bool = False

    # --- environment -----------------------------------------------------------------------------
    def start(self) -> Bench:
        """Reach the server in use and point the environment at the bench databases (call first)."""
        if self._started:
            return self
        self.out.mkdir(parents=True, exist_ok=True)
        base = Settings.from_env()
        if base.embedded:
            from lowincome.warehouse import ensure_server

            ensure_server(base)
        self.base_url = base.warehouse_url()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        env = {
            "LOWINCOME_WAREHOUSE_URL": with_database(self.base_url, self.warehouse_db),
            "LOWINCOME_DATA_DIR": str(self.data_dir),
            "LOWINCOME_HMAC_KEY": BENCH_HMAC_KEY,
        }
        if self.airflow_db is not None:
            env["LOWINCOME_AIRFLOW_DB"] = self.airflow_db
            env["LOWINCOME_AIRFLOW_HOME"] = str(self.out / "airflow")
        os.environ.update(env)
        from lowincome import airflow_env
        from lowincome.config import settings

        cfg = settings()
        if self.airflow_db is not None:
            # An operator's AIRFLOW__DATABASE__* / AIRFLOW_HOME would win in airflow_env; the bench never
            # writes into another Airflow metadata database, so these are forced.
            forced = airflow_env.airflow_environment(cfg)
            os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = _sqlalchemy(cfg.airflow_metadata_url())
            os.environ["AIRFLOW_HOME"] = forced["AIRFLOW_HOME"]
        self._started = True
        self.reset_databases()
        return self

    @property
    def cfg(self) -> Settings:
        from lowincome.config import settings

        return settings()

    @property
    def data_dir(self) -> Path:
        return self.out / "data"

    @property
    def workloads_dir(self) -> Path:
        """Generated input files, kept between runs (generation is not what is measured)."""
        return self.workloads_root or self.out / "workloads"

    def scratch(self, name: str) -> Path:
        """An empty folder under out/scratch (a landing folder, say)."""
        path = self.out / "scratch" / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    # --- databases -------------------------------------------------------------------------------
    def admin(self) -> psycopg.Connection:
        return psycopg.connect(with_database(self.base_url, "postgres"), autocommit=True, connect_timeout=10)

    def reset_databases(self) -> None:
        names = [self.warehouse_db] + ([self.airflow_db] if self.airflow_db else [])
        with self.admin() as admin:
            for name in names:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
                admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        if self.airflow_db is not None:
            (self.out / "airflow" / ".migrated").unlink(missing_ok=True)
        self._bootstrap()

    def reset_warehouse(self) -> None:
        """A brand-new, bootstrapped, empty warehouse (and an empty data folder)."""
        self._drop_airflow_pool()
        self.state.clear()
        with self.admin() as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.warehouse_db)))
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(self.warehouse_db)))
        for sub in ("archive", "quarantine", "feedback", "reports", "gx", "docs"):
            shutil.rmtree(self.data_dir / sub, ignore_errors=True)
        self._bootstrap()

    def drop(self) -> None:
        """Drop the bench databases (tests; a CLI run leaves them for inspection until the next run)."""
        self._drop_airflow_pool()
        names = [self.warehouse_db] + ([self.airflow_db] if self.airflow_db else [])
        with self.admin() as admin:
            for name in names:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))

    def _bootstrap(self) -> None:
        from lowincome.warehouse import ensure_ready

        ensure_ready(self.cfg)

    @staticmethod
    def _drop_airflow_pool() -> None:
        """Airflow keeps pooled connections; none may point at a database about to be dropped."""
        import sys

        if "airflow.settings" in sys.modules:
            with contextlib.suppress(Exception):
                sys.modules["airflow.settings"].engine.dispose()

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        return psycopg.connect(self.cfg.warehouse_url(), autocommit=True, connect_timeout=10, **kwargs)

    def prepare_airflow(self) -> None:
        """Warehouse bootstrapped, Airflow configured and its metadata database migrated."""
        from lowincome.pipeline import prepare

        with timed() as t:
            prepare(self.cfg)
        if t.seconds > 2:
            self.log(f"  (airflow metadata ready in {t.seconds:.0f}s; not measured)")

    def airflow_metadata_url(self) -> str:
        """The database Airflow really writes to (its configured engine), as a psycopg URL."""
        from airflow.configuration import conf

        url = conf.get("database", "sql_alchemy_conn")
        scheme, _, rest = url.partition("://")
        return "postgresql://" + rest if scheme.startswith("postgres") else url

    def server_version(self) -> str:
        with self.connect() as conn:
            return conn.execute("show server_version").fetchone()[0]


def _sqlalchemy(url: str) -> str:
    from lowincome.config import sqlalchemy_url

    return sqlalchemy_url(url)


def count_rows(conn: psycopg.Connection, query: str, params: tuple = ()) -> int:
    return int(conn.execute(query, params).fetchone()[0])


def missing_module(name: str) -> str | None:
    """None when ``name`` imports, else a one-line reason naming it."""
    import importlib

    try:
        importlib.import_module(name)
    except ImportError as err:
        return f"{name} is not in the code yet ({err})"
    return None


def dag_ids(cfg: Settings) -> set[str]:
    return {p.stem for p in cfg.dags_dir.glob("*.py") if not p.name.startswith("_")}


def run_child(bench: Bench, folder: Path, profile: Path | None = None, label: str = "child",
              dag_steps: bool = False) -> dict[str, Any]:
    """Ingest ``folder`` in a fresh process (:mod:`benchmarks.child`); its JSON report."""
    import json
    import subprocess
    import sys

    argv = [sys.executable, "-m", "benchmarks.child", str(folder)]
    if profile is not None:
        argv += ["--profile", str(profile)]
    if dag_steps:
        argv.append("--dag-steps")
    logs = bench.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stderr_path = logs / f"{label}.log"
    with stderr_path.open("w") as stderr:
        done = subprocess.run(argv, cwd=bench.cfg.project_root, stdout=subprocess.PIPE, stderr=stderr, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if done.returncode != 0 or not lines:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{label}: ingestion child failed ({tail[0][:300]}); log: {stderr_path}")
    return json.loads(lines[-1][len("BENCH-RESULT "):])


def require_loaded(outcomes: list[dict[str, Any]], rows: int, what: str) -> None:
    """A throughput of a rejected file means nothing: stop with the reason instead of a number."""
    loaded = sum(o["rows_loaded"] for o in outcomes if o["status"] == "loaded")
    if loaded != rows:
        bad = [f"{o['file_name']}: {o['status']} {o.get('reason_code') or ''} {o.get('reason') or ''}".strip()
               for o in outcomes if o["status"] != "loaded" or o["rows_rejected"]]
        raise RuntimeError(f"{what}: {loaded} of {rows} rows loaded ({'; '.join(bad[:3]) or 'no outcome'})")


@dataclass
class TaskTiming:
    dag_id: str
    task_id: str
    map_index: int
    state: str
    seconds: float


def task_timings(bench: Bench, dag_id: str, run_id: str) -> list[TaskTiming]:
    """Every task instance of a DAG run with its duration, from Airflow's metadata database."""
    with psycopg.connect(bench.airflow_metadata_url(), autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            """select task_id, map_index, coalesce(state, 'none'),
                      extract(epoch from (end_date - start_date))::float8
               from task_instance where dag_id = %s and run_id = %s order by start_date""",
            (dag_id, run_id)).fetchall()
    return [TaskTiming(dag_id, t, int(m), s, float(d or 0.0)) for t, m, s, d in rows]


def run_dags(bench: Bench, landing: Path | None, dag_ids: tuple[str, ...], label: str) -> tuple[float, list]:
    """``run_nightly`` for ``dag_ids`` (the production path: dag.test() of each DAG, in order); wall time
    and the DagOutcome list. Airflow's task logs go to out/logs/<label>.log."""
    from lowincome.pipeline import run_nightly

    logs = bench.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    outcomes = run_nightly(bench.cfg, landing=landing, logfile=logs / f"{label}.log", dag_ids=dag_ids)
    return time.perf_counter() - started, outcomes


def county_spread(count: int) -> list[str] | None:
    """None for all counties (``count`` 0), else an even spread of ``count`` county codes."""
    if not count:
        return None
    from lowincome.generator.counties import load_counties

    codes = [c.code for c in load_counties()]
    step = max(1, len(codes) // count)
    return codes[::step][:count]
