"""Running dbt outside Airflow: the manifest the DAG renders from, CLI/test builds and the docs site."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.transform.project import (
    GLOBAL_FLAGS,
    TEST_COUNTIES_ENV,
    dbt_executable,
    docs_dir,
    manifest_path,
    profile_env,
    project_dir,
    run_dir,
    write_profiles,
)
from lowincome.warehouse import SCHEMAS, connect

log = logging.getLogger(__name__)

# dbt commands that run nodes: run in-process, they write no JSON artifacts (run_dbt)
_NODE_COMMANDS = ("build", "run", "test", "seed", "snapshot")
# Folders dbt writes into; their files are outputs, not inputs of the manifest.
_GENERATED = {"target", "logs", "dbt_packages"}


def project_inputs(cfg: Settings) -> list[Path]:
    """Every file the manifest is parsed from."""
    root = project_dir(cfg)
    return [p for p in root.rglob("*") if p.is_file() and not (set(p.relative_to(root).parts[:1]) & _GENERATED)]


def manifest_is_current(cfg: Settings) -> bool:
    manifest = manifest_path(cfg)
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(p.stat().st_mtime <= built for p in project_inputs(cfg))


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """One parse at a time per project folder (the scheduler, a worker and tests may all ask)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_manifest(cfg: Settings) -> Path:
    """``dbt parse`` into ``dbt_project/target`` when a project file is newer than the manifest.

    Cheap when the manifest is current (a stat of each project file), so it may be called before every
    DAG parse. The manifest is parsed elsewhere and moved in, so a reader never sees half a file.
    """
    manifest = manifest_path(cfg)
    if manifest_is_current(cfg):
        return manifest
    with _exclusive(manifest.parent / ".parse.lock"):
        if manifest_is_current(cfg):
            return manifest
        with tempfile.TemporaryDirectory(prefix="parse-", dir=manifest.parent) as scratch:
            run_dbt(cfg, ["parse", "--target-path", scratch])
            # cosmos copies partial_parse.msgpack with the project, so its dbt runs skip a full parse.
            for name in ("partial_parse.msgpack", "manifest.json"):
                built = Path(scratch) / name
                if built.exists():
                    os.replace(built, manifest.parent / name)
    return manifest


# Environment variables the dbt project reads (env_var) that only the caller of a run may set.
RUN_ENV = ("LOWINCOME_PUBLISHED_AT", TEST_COUNTIES_ENV)


def dbt_command(cfg: Settings, args: list[str], env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of a dbt command on the warehouse of ``cfg`` (what :func:`run_dbt` runs).

    ``env`` sets the project's run variables (:data:`RUN_ENV`); they are never inherited from this
    process, so a run without them uses the project's defaults.
    """
    unknown = set(env or ()) - set(RUN_ENV)
    if unknown:
        raise ValueError(f"run_dbt: {sorted(unknown)} are not run variables of the dbt project ({RUN_ENV})")
    profiles = write_profiles(cfg)
    runs = run_dir(cfg)
    argv = [str(dbt_executable()), *args, "--project-dir", str(project_dir(cfg)),
            "--profiles-dir", str(profiles.parent), "--log-path", str(runs / "logs"), "--no-use-colors"]
    if "--target-path" not in args:
        argv += ["--target-path", str(runs / "target")]
    inherited = {k: v for k, v in os.environ.items() if k not in RUN_ENV}
    return argv, {**inherited, **profile_env(cfg), **(env or {}), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def run_dbt(cfg: Settings, args: list[str], env: dict[str, str] | None = None, *, in_process: bool = False) -> None:
    """Run a dbt command (:func:`dbt_command`); a failure raises UserError with one line.

    By default dbt runs as a child process: its adapters, flags and logging are process-global, and the
    CLI and the tests call dbt from processes that do other work. ``in_process`` runs it through
    ``dbtRunner`` in this process instead, as cosmos runs the warehouse DAG's nodes
    (``InvocationMode.DBT_RUNNER``): for an Airflow task, where dbt is imported once per process, that
    saves a Python start and dbt's imports per call. The environment the child would get is set
    for the call's duration and then put back; dbt's adapters are reset afterwards, as cosmos does. Run
    so, a build writes no JSON artifacts (``--no-write-json``: the manifest twice and run_results, which
    nobody reads; the failure is read from the result object, and the partial-parse file is still
    written).
    """
    argv, environment = dbt_command(cfg, args, env)
    runs = run_dir(cfg)
    target = Path(args[args.index("--target-path") + 1]) if "--target-path" in args else runs / "target"
    started = time.time()
    if in_process:
        quiet = list(GLOBAL_FLAGS) if args[0] in _NODE_COMMANDS else []
        failure = _invoke_in_process([*argv[1:], *quiet], environment, project_dir(cfg))
    else:
        result = subprocess.run(argv, env=environment, capture_output=True, text=True, cwd=project_dir(cfg))
        failure = None if result.returncode == 0 else _failure_summary(result.stdout, target, started)
    if failure is not None:
        raise UserError(f"dbt {args[0]} failed: {failure}; full log: {runs / 'logs' / 'dbt.log'}")


@contextlib.contextmanager
def _process_state(environment: dict[str, str], cwd: Path) -> Iterator[None]:
    """This process's environment made ``environment`` and its working directory ``cwd`` for the block.

    Only the variables that differ are touched (other threads of the process may read the rest).
    """
    changed = {k: os.environ.get(k) for k, v in environment.items() if os.environ.get(k) != v}
    dropped = {k: v for k, v in os.environ.items() if k not in environment}
    saved_cwd = os.getcwd()
    os.environ.update({k: environment[k] for k in changed})
    for k in dropped:
        del os.environ[k]
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        for k, v in changed.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        os.environ.update(dropped)


def _invoke_in_process(cli_args: list[str], environment: dict[str, str], cwd: Path) -> str | None:
    """dbt through ``dbtRunner`` in this process; None on success, else the one-line failure."""
    from dbt.adapters.factory import reset_adapters
    from dbt.cli.main import dbtRunner

    with _process_state(environment, cwd):
        try:
            outcome = dbtRunner().invoke(cli_args)
        finally:
            reset_adapters()  # the adapters hold connections and semaphores (cosmos resets them too)
    if outcome.success:
        return None
    results = getattr(outcome.result, "results", None) or []
    failed = [{"unique_id": r.node.unique_id, "status": getattr(r.status, "value", r.status), "message": r.message}
              for r in results if getattr(r.status, "value", r.status) in ("error", "fail")]
    if failed:
        return _first_failed(failed)
    return " ".join(str(outcome.exception or "dbt reported a failure without a failing node").split())[:300]


def _first_failed(failed: list[dict]) -> str:
    first = failed[0]
    message = " ".join(str(first.get("message") or "").split())[:200]
    more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
    return f"{first['unique_id']} {first['status']}: {message}{more}"


def _failure_summary(output: str, target: Path, started: float) -> str:
    """The first failing node from this run's run_results.json, else dbt's first error line."""
    results_file = target / "run_results.json"
    failed: list[dict] = []
    if results_file.exists() and results_file.stat().st_mtime >= started:
        with contextlib.suppress(ValueError, OSError):
            results = json.loads(results_file.read_text())["results"]
            failed = [r for r in results if r.get("status") in ("error", "fail")]
    if failed:
        return _first_failed(failed)
    lines = [_strip_time(line) for line in output.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        # "Encountered an error:" / "Compilation Error" are headings; the reason is on the next lines.
        if line.rstrip(":").lower().endswith(("encountered an error", "error")) and i + 1 < len(lines):
            return " ".join(" ".join(lines[i:i + 3]).split())[:300]
    errors = [line for line in lines if "error" in line.lower() and "completed" not in line.lower()]
    return " ".join((errors or lines or ["no output"])[0].split())[:300]


def _strip_time(line: str) -> str:
    """dbt prefixes its lines with HH:MM:SS."""
    head, _, rest = line.strip().partition(" ")
    return rest.strip() if head.count(":") == 2 and head.replace(":", "").isdigit() else line.strip()


# What dbt's catalog reads of the warehouse (relations, columns, types, comments, owners): when neither
# this nor the manifest changed, the docs site would come out the same (the postgres catalog holds no
# row counts or other statistics that move with the data).
_CATALOG_SHAPE = """
select n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class'),
       a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p', 'f')
  and not (n.nspname = 'ops' and c.relname like 'load\\_%%')  -- ingestion's scratch tables come and go
order by 1, 2, 6
"""


def docs_fingerprint(cfg: Settings) -> str:
    """sha256 of what the docs site is made of: dbt's version, the manifest and the catalog's shape."""
    digest = hashlib.sha256(f"dbt-core {version('dbt-core')}\n".encode())
    digest.update(ensure_manifest(cfg).read_bytes())
    with connect(cfg.warehouse_url()) as conn:
        for row in conn.execute(_CATALOG_SHAPE, (list(SCHEMAS),)):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def build_docs(cfg: Settings, *, force: bool = False) -> Path:
    """``dbt docs generate --static`` into ``$LOWINCOME_DATA_DIR/docs/dbt/``; returns its index.html.

    dbt's static page embeds the manifest and catalog and all its scripts; the one thing it could load
    from the network (usage tracking) is off in dbt_project.yml and stripped here, so the page works
    with no network at all.

    Generating costs a full parse, a compile of every node and the catalog queries, whatever
    the night changed; the site only changes with the project or the warehouse's shape, so a night
    whose :func:`docs_fingerprint` matches the site's keeps it (``force`` regenerates).
    """
    out = docs_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    index, stamp = out / "index.html", out / ".fingerprint"
    fingerprint = docs_fingerprint(cfg)
    if not force and index.is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        log.info("dbt docs: project and warehouse unchanged since %s was generated; kept", index)
        return index
    stamp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="docs-") as scratch:
        run_dbt(cfg, ["docs", "generate", "--static", "--target-path", scratch])
        page = (Path(scratch) / "static_index.html").read_text(encoding="utf-8")
        page = page.replace('i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"', 'i.src=""')
        index.write_text(page, encoding="utf-8")
        for name in ("manifest.json", "catalog.json"):
            shutil.copyfile(Path(scratch) / name, out / name)
    stamp.write_text(fingerprint)
    return index
