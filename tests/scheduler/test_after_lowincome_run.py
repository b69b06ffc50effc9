"""``lowincome ui`` after ``lowincome run``: Airflow's scheduler replays nothing that is done, and the UI
is safe by default.

The night of ``lowincome run`` (dag.test) left an asset event that Airflow queued for each consumer DAG
and no scheduled run of the ingest DAG. Started afterwards, the scheduler runs the ingest for the last
02:00 (catchup off runs the latest interval once) and the consumers on the queued events: each must be
a recorded no-op (nothing new in landing: no raw event; a build with nothing planned: no warehouse
event; a build already published: 'unchanged' in ops.publications), never a second publication.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from fixtures.airflow_services import TUNED, api_ready, dag_runs, settled, wait_until
from fixtures.convergence import checksums, differences, free_port, mart_rows

pytestmark = [pytest.mark.scheduler, pytest.mark.slow]
NIGHTLY = ("ingest_county_submissions", "build_warehouse", "publish_monitoring")
QUIET = 45          # seconds without a new or unfinished run: the scheduler has nothing more to start
SETTLE_TIMEOUT = 10 * 60


@contextlib.contextmanager
def lowincome_ui(state, port: int, out: Path):
    """``lowincome ui --port`` in its own process group; Ctrl-C (SIGINT) at the end, and every process it
    started killed whatever happens."""
    env = {key: value for key, value in {**os.environ, **state.overrides, **TUNED}.items() if value is not None}
    env.pop("LOWINCOME_UI_HOST", None)
    with open(out, "wb") as sink:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "lowincome"), "ui", "--port", str(port)], env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    seen: dict[int, psutil.Process] = {}

    def children() -> list[psutil.Process]:
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(proc.pid).children(recursive=True):
                seen.setdefault(child.pid, child)
        return list(seen.values())

    try:
        yield proc, children
    finally:
        children()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for child in seen.values():   # each service in its own process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)


def _quiet(api, since: list[float]) -> bool:
    """True once every run has ended and no run was added for QUIET seconds."""
    count = sum(len(dag_runs(api, dag_id)) for dag_id in NIGHTLY)
    if not settled(api, NIGHTLY) or count != since[1]:
        since[:] = [time.monotonic(), count]
        return False
    return time.monotonic() - since[0] >= QUIET


def _task_states(api, dag_id: str, run_id: str) -> dict[str, str]:
    found = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")["task_instances"]
    return {ti["task_id"]: ti["state"] for ti in found}


def test_the_scheduler_after_lowincome_run_replays_nothing_and_listens_on_this_machine_only(reference, tmp_path):
    from lowincome.airflow_env import admin_password_file

    state = reference.state
    port = free_port()
    out = tmp_path / "ui.out"
    with state.active() as cfg:
        password_file = admin_password_file(cfg)
    with psycopg.connect(state.warehouse_url(), autocommit=True) as conn:
        history_before = conn.execute("select count(*) from marts.indicator_history").fetchone()[0]
    with lowincome_ui(state, port, out) as (proc, children):
        api = api_ready(_Watch(proc, out), port, password_file)
        since = [time.monotonic(), -1]
        wait_until("the scheduler to settle", lambda: _quiet(api, since), SETTLE_TIMEOUT, _Watch(proc, out), every=5)
        runs = {dag_id: dag_runs(api, dag_id) for dag_id in NIGHTLY}
        started = {dag_id: [r for r in found if r["run_type"] != "manual"] for dag_id, found in runs.items()}
        states = {dag_id: {r["dag_run_id"]: _task_states(api, dag_id, r["dag_run_id"]) for r in found}
                  for dag_id, found in started.items()}
        listening = _listening(children())
        pages = {path: api.page(path) for path in (
            "/lowincome/report/index.html", "/lowincome/validation/index.html", "/lowincome/dbt/index.html",
            "/lowincome/report/..%2F..%2Fairflow%2Fsimple_auth_manager_passwords.json.generated")}
        anonymous = api.page("/lowincome/report/index.html", token=False)
        plugins = api.get("/api/v2/plugins")["plugins"]

    # every run the scheduler started ended well and changed nothing
    assert all(r["state"] == "success" for found in started.values() for r in found), started
    assert len(started["ingest_county_submissions"]) <= 1            # the last 02:00, once
    for run_id, tasks in states["ingest_county_submissions"].items():
        assert tasks["publish_raw"] == "skipped", (run_id, tasks)    # nothing new: no raw-layer event
    assert len(started["build_warehouse"]) <= 1                      # the event the night left, once
    for run_id, tasks in states["build_warehouse"].items():
        assert tasks["grant_readers"] == "skipped", (run_id, tasks)  # nothing planned: no warehouse event
    assert len(started["publish_monitoring"]) <= 1
    for run_id, tasks in states["publish_monitoring"].items():
        assert tasks["refresh_marts"] == "skipped", (run_id, tasks)  # already published
    with psycopg.connect(state.warehouse_url(), autocommit=True) as conn:
        publications = conn.execute("select outcome, count(*) from ops.publications group by 1").fetchall()
        builds = conn.execute("select nodes_planned from ops.warehouse_builds order by id").fetchall()
        history_after = conn.execute("select count(*) from marts.indicator_history").fetchone()[0]
    assert dict(publications) == {"published": 1, **({"unchanged": 1} if started["publish_monitoring"] else {})}
    assert builds[1:] == [(0,)] * len(started["build_warehouse"])   # recorded, with nothing planned
    assert history_after == history_before
    got = mart_rows(state.warehouse_url())
    assert checksums(got) == checksums(reference.marts), differences(reference.marts, got)

    # safe by default: every socket the services listen on is on the loopback; no password printed
    assert listening and all(address in ("127.0.0.1", "::1") for address, _ in listening), listening
    assert (("127.0.0.1", port) in listening)
    printed = out.read_text(errors="replace")
    password = json.loads(password_file.read_text())["admin"]
    assert password not in printed and str(password_file) in printed
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    assert not re.search(r"[Pp]assword for user", printed)

    # the plugin: the report, the Data Docs and the dbt docs, through the api-server, to signed-in users
    report, validation, dbt, outside = (pages[p] for p in pages)
    assert report[0] == 200 and "<html" in report[1].lower()
    assert (state.root / "data" / "reports" / "index.html").read_text(errors="replace") == report[1]
    assert validation[0] == 200 and "<html" in validation[1].lower()
    assert dbt[0] == 200 and "<html" in dbt[1].lower()
    assert outside[0] == 404
    assert anonymous[0] in (401, 403)
    ours = next(p for p in plugins if p["name"] == "lowincome")
    assert {v["href"] for v in ours["external_views"]} == {
        "lowincome/report/index.html", "lowincome/validation/index.html", "lowincome/dbt/index.html"}
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/lowincome"]


class _Watch:
    """``services.check()`` for ``lowincome ui``: fail at once when it exits."""

    def __init__(self, proc, out: Path):
        self.proc, self.out = proc, out

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"lowincome ui exited ({self.proc.returncode}):\n"
                                 + self.out.read_text(errors="replace")[-2000:])


def _listening(processes: list[psutil.Process]) -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket of these processes."""
    pids = {p.pid for p in processes}
    return {(c.laddr.ip, c.laddr.port) for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.pid in pids}
