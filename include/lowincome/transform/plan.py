"""What a warehouse build has to run: the dbt nodes downstream of what changed since the last build.

The warehouse DAG renders every seed, snapshot and model as a task (cosmos). Starting dbt for a node
costs seconds whatever the node does, so a night that brings one county's corrected file would pay
for ~50 nodes although only the few that read that template have anything to do. A build therefore
starts with a plan (``plan_build``), and a branch upstream of every dbt task (``skip_unplanned``:
:func:`planned_tasks`) marks the tasks whose node is not in it skipped, so they never start. A node
task started anyway (downstream of a planned node, which Airflow's branching leaves alone, or cleared
by hand) checks the plan again and skips itself before dbt starts (``skip_unless_planned``, called by
the tasks' ``pre_execute`` hook, ``cosmos_config.before_node``). A plan of at most ``TOGETHER_LIMIT`` models,
seeds and snapshots besides views (one county's correction: 1) is built by one ``dbt build`` in one task
(:func:`build_together`) instead of a dbt start per node: all node tasks are then skipped.

A node is in the plan when it is downstream (models, snapshots and tests, through the manifest's
``child_map``) of

* the raw table of a template whose set of current submissions changed since the last finished build
  (a file loaded, a file superseded by its correction) - dbt's ``source_status:fresher+``, computed
  from the ledger instead of from freshness timestamps, so it is exact;
* ``ops.submissions``, for the nodes fed by it alone (``stg_ops__submissions``,
  ``int_submissions_filtered_to_current``); a node that also
  reads raw data reads the ledger only for its own templates and is planned through its raw tables,
  so a new income file does not rebuild the villages (``triggered_by_templates``);
* a relation that does not exist in the warehouse (dropped by hand, a new model).

Everything is planned when there is no finished build on record, when the dbt project changed since
it (``project_fingerprint``: dbt's version, every node's and macro's checksum and config), or when the
run asks for it (``params.scope = "all"``). The incremental models still decide which rows to rebuild
(``macros/incremental_vintages.sql``); the plan only spares starting dbt for nodes with no work.

The plan also bounds the data tests: a build that brings some counties' files can change only those
counties' rows of the relations keyed by submission (staging views, incremental facts: they have
``county_code`` and ``submission_id``), so their tests read those counties' rows only
(``BuildPlan.test_counties``, passed to dbt as ``LOWINCOME_TEST_COUNTIES``, read by
``macros/speedups/test_scope.sql``). Every other
relation, and every relation in a build of everything, is tested whole.

Builds are recorded in ``ops.warehouse_builds``: planned when the plan is made, finished only when
every planned node succeeded (``record_build``). The next plan compares with the last *finished*
build, so a failed night is replanned in full the next time, never lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from lowincome.config import Settings
from lowincome.transform.project import PUBLICATION_PATHS, TEST_COUNTIES_ENV
from lowincome.transform.runs import ensure_manifest, run_dbt
from lowincome.warehouse import connect

log = logging.getLogger(__name__)

SCOPES = ("changes", "all")
# The task that makes the plan; the dbt tasks read it from its XCom.
PLAN_TASK_ID = "plan_build"
BRANCH_TASK_ID = "skip_unplanned"
TOGETHER_TASK_ID = "build_together"
# A plan of at most this many models, seeds and snapshots is built by one dbt invocation (build_together),
# not by a task per node: each node task starts dbt and is scheduled (a task process under a real
# executor), which is most of a small night's build (a one-file correction plans 1 table besides its
# views; a register's 5). A bigger plan (a night of many counties' files: minutes of dbt work) keeps a task
# per node, retried alone on failure. Views are not counted (build_together does not recreate them).
TOGETHER_LIMIT = 8
BUILT_RESOURCES = ("model", "seed", "snapshot")
COUNTY_CODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class BuildPlan:
    build_id: int
    scope: str                     # "all" or "changes"
    reason: str                    # why, in one line (the task log and ops.warehouse_builds say it)
    nodes: frozenset[str] = field(default_factory=frozenset)  # unique_ids to run when scope is "changes"
    # the counties whose rows the build can change; None: any (tests then read whole relations)
    counties: tuple[str, ...] | None = None
    together: bool = False         # built by one dbt invocation (build_together), not by the node tasks

    @property
    def builds_nothing(self) -> bool:
        """No node planned: nothing new since the last finished build (a recorded no-op)."""
        return self.scope == "changes" and not self.nodes

    def includes(self, unique_id: str) -> bool:
        return self.scope == "all" or unique_id in self.nodes

    def runs_task_of(self, unique_id: str) -> bool:
        """Whether the node's own (cosmos) task runs: the plan includes it and does not build together."""
        return not self.together and self.includes(unique_id)

    @property
    def test_counties(self) -> str:
        """``LOWINCOME_TEST_COUNTIES`` of the dbt tasks (macros/speedups/test_scope.sql): ``*`` or county codes
        separated by commas."""
        return "*" if self.scope == "all" or self.counties is None else ",".join(self.counties)

    def to_xcom(self) -> dict[str, Any]:
        return {"build_id": self.build_id, "scope": self.scope, "reason": self.reason, "nodes": sorted(self.nodes),
                "counties": None if self.counties is None else list(self.counties),
                "test_counties": self.test_counties, "together": self.together}

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> BuildPlan:
        counties = value.get("counties")
        return cls(int(value["build_id"]), value["scope"], value["reason"], frozenset(value.get("nodes") or ()),
                   None if counties is None else tuple(counties), bool(value.get("together")))


# --- the manifest ---------------------------------------------------------------------------------
def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def project_fingerprint(manifest: dict[str, Any]) -> str:
    """Changes whenever a build could produce something else from the same data.

    dbt's version, and each node's, seed's, snapshot's and test's checksum and config, each source's
    definition and each macro's SQL. Not the manifest as a whole: it carries generation times and paths.
    """
    digest = hashlib.sha256()
    digest.update(metadata.version("dbt-core").encode())
    for uid in sorted(manifest["nodes"]):
        node = manifest["nodes"][uid]
        digest.update(json.dumps([uid, node.get("checksum"), node.get("config"), node.get("depends_on"),
                                  node.get("test_metadata")], sort_keys=True, default=str).encode())
    for uid in sorted(manifest.get("sources", {})):
        source = manifest["sources"][uid]
        digest.update(json.dumps([uid, source.get("relation_name"), sorted(source.get("columns", {}))],
                                 sort_keys=True).encode())
    for uid in sorted(manifest.get("macros", {})):
        digest.update(uid.encode())
        digest.update(manifest["macros"][uid].get("macro_sql", "").encode())
    return digest.hexdigest()


def _reachable(edges: dict[str, list[str]], start: list[str]) -> set[str]:
    """``start`` and everything reachable from it along ``edges`` (the manifest's child or parent map)."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        uid = stack.pop()
        if uid not in seen:
            seen.add(uid)
            stack.extend(edges.get(uid, ()))
    return seen


def downstream(manifest: dict[str, Any], roots: set[str]) -> set[str]:
    """``roots`` and every node below them (models, snapshots, seeds' dependants, tests)."""
    return _reachable(manifest.get("child_map", {}), list(roots))


def _sources(manifest: dict[str, Any], source_name: str) -> dict[str, str]:
    """table name -> source unique_id, for one dbt source (``raw`` or ``ops``)."""
    return {s["name"]: uid for uid, s in manifest.get("sources", {}).items() if s["source_name"] == source_name}


def upstream(manifest: dict[str, Any], uid: str) -> set[str]:
    """Every node and source above ``uid``."""
    parents = manifest.get("parent_map", {})
    return _reachable(parents, list(parents.get(uid, ())))


def triggered_by_templates(manifest: dict[str, Any], templates: set[str]) -> set[str] | None:
    """The nodes with new input when the submissions of ``templates`` changed (None: plan everything).

    The ledger (``ops.submissions``) changes with every file, but a node that reads raw data reads the
    ledger only for the templates it reads (``macros/incremental_vintages.sql``: which submission of
    *its* template is current); such a node is planned through its raw tables. Only the nodes fed by
    the ledger alone (``stg_ops__submissions``, ``int_submissions_filtered_to_current`` and their tests)
    are planned for any template.
    """
    if not templates:
        return set()
    raw = _sources(manifest, "raw")
    if not templates <= set(raw):
        return None
    raw_ids = set(raw.values())
    planned = downstream(manifest, {raw[t] for t in templates})
    for ledger in _sources(manifest, "ops").values():
        planned |= {uid for uid in downstream(manifest, {ledger}) if not raw_ids & upstream(manifest, uid)}
    return _with_dependent_views(manifest, planned) - set(manifest.get("sources", {}))


def _is_view(manifest: dict[str, Any], uid: str) -> bool:
    node = manifest["nodes"].get(uid, {})
    return node.get("resource_type") == "model" and node.get("config", {}).get("materialized") == "view"


def _with_dependent_views(manifest: dict[str, Any], planned: set[str]) -> set[str]:
    """``planned`` and the views built on a planned view, with their tests: dbt replaces a view by
    dropping the old one with CASCADE, which drops the views that select from it (the current rows of
    every template select from ``int_submissions_filtered_to_current``); they are created again after it."""
    children = manifest.get("child_map", {})
    found = set(planned)
    stack = [uid for uid in planned if _is_view(manifest, uid)]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found and _is_view(manifest, child):
                found.add(child)
                stack.append(child)
                found |= {t for t in children.get(child, ()) if t.startswith("test.")}
    return found


def _is_mart(node: dict[str, Any]) -> bool:
    """The publishing DAG builds the marts' nodes (and the intermediate models only they read), whatever
    changed; the warehouse build never does."""
    return node.get("original_file_path", "").startswith(tuple(path + "/" for path in PUBLICATION_PATHS))


def relations(manifest: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """unique_id -> (schema, name) of every relation the warehouse build makes (not the marts)."""
    found = {}
    for uid, node in manifest["nodes"].items():
        if (node["resource_type"] in BUILT_RESOURCES and node.get("config", {}).get("materialized") != "ephemeral"
                and not _is_mart(node)):
            found[uid] = (node["schema"], node.get("alias") or node["name"])
    return found


def _built_nodes(manifest: dict[str, Any], nodes: set[str]) -> list[str]:
    """The models, seeds and snapshots among ``nodes`` (not their tests)."""
    return sorted(uid for uid in nodes if manifest["nodes"][uid]["resource_type"] in BUILT_RESOURCES)


def _built_here(manifest: dict[str, Any], nodes: set[str]) -> set[str]:
    """``nodes`` without the marts' (and without anything that is not a node)."""
    found = manifest["nodes"]
    return {uid for uid in nodes if uid in found and not _is_mart(found[uid])}


# --- the warehouse ----------------------------------------------------------------------------------
def _missing(conn, wanted: dict[str, tuple[str, str]]) -> set[str]:
    present = set(conn.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'v', 'm', 'p', 'f')").fetchall())
    return {uid for uid, relation in wanted.items() if relation not in present}


def _last_finished(conn) -> tuple[int, str, list[int]] | None:
    row = conn.execute(
        "select id, project_fingerprint, loaded_submissions from ops.warehouse_builds "
        "where finished_at is not null order by id desc limit 1").fetchone()
    return (row[0], row[1], list(row[2])) if row else None


def _changes(conn, before: list[int], now: list[int]) -> tuple[set[str], set[str | None]]:
    """(templates, counties) of the submissions loaded or no longer loaded between two builds."""
    changed = sorted(set(before) ^ set(now))
    if not changed:
        return set(), set()
    rows = conn.execute("select distinct template, county_code from ops.submissions where id = any(%s)",
                        (changed,)).fetchall()
    return {r[0] for r in rows}, {r[1] for r in rows}


def plan_build(cfg: Settings, manifest_file: Path | None = None, *, scope: str = "changes",
               run_id: str | None = None) -> BuildPlan:
    """Decide what this build runs and record it as planned in ``ops.warehouse_builds`` (from the
    project's manifest, parsed first if stale, unless another is given)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    manifest = load_manifest(manifest_file or _current_manifest(cfg))
    fingerprint = project_fingerprint(manifest)
    with connect(cfg.warehouse_url()) as conn:
        # the submissions whose rows the warehouse shows: the ledger's 'loaded' files
        loaded = [r[0] for r in conn.execute(
            "select id from ops.submissions where status = 'loaded' order by id").fetchall()]
        last = _last_finished(conn)
        nodes: set[str] = set()
        templates: set[str] = set()
        counties: tuple[str, ...] | None = None
        if scope == "all":
            reason = "asked for a full build (params.scope = all)"
        elif last is None:
            scope, reason = "all", "no finished build on record"
        elif last[1] != fingerprint:
            scope, reason = "all", f"the dbt project changed since build #{last[0]}"
        else:
            templates, touched = _changes(conn, last[2], loaded)
            triggered = triggered_by_templates(manifest, templates)
            wanted = relations(manifest)
            missing = _missing(conn, wanted)
            if triggered is None:
                scope, reason = "all", f"templates without a raw source changed: {sorted(templates)}"
            else:
                nodes = _built_here(manifest, triggered | downstream(manifest, missing))
                # a rebuilt relation may change any county's rows; so may a code that is not a county's
                if not missing and all(c is not None and COUNTY_CODE.fullmatch(c) for c in touched):
                    counties = tuple(sorted(touched))
                parts = [f"new or superseded submissions of {', '.join(sorted(templates))}" if templates
                         else "no new submissions"]
                if missing:
                    parts.append(f"{len(missing)} relation(s) missing: "
                                 + ", ".join(sorted(".".join(wanted[m]) for m in missing)[:5]))
                reason = f"since build #{last[0]}: " + "; ".join(parts)
        # views are not counted: build_together leaves a standing view in place (its tests run)
        together = 0 < len([uid for uid in _built_nodes(manifest, nodes) if not _is_view(manifest, uid)]) \
            <= TOGETHER_LIMIT
        if together:
            reason += "; built together (one dbt run)"
        plan = BuildPlan(0, scope, reason, frozenset(nodes), counties, together)
        build_id = conn.execute(
            "insert into ops.warehouse_builds (run_id, scope, reason, project_fingerprint, loaded_submissions, "
            "changed_templates, nodes_planned, test_counties) values (%s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (run_id, scope, reason, fingerprint, loaded, sorted(templates),
             None if scope == "all" else len(nodes), plan.test_counties)).fetchone()[0]
    plan = dataclasses.replace(plan, build_id=build_id)
    log.info("warehouse build #%s: %s (%s)", build_id,
             "every node" if scope == "all" else f"{len(nodes)} node(s) planned", reason)
    return plan


def built_as_project(cfg: Settings, manifest_file: Path | None = None) -> bool:
    """Whether the last finished warehouse build was of the project as it is now (same fingerprint): then
    every seed in the warehouse is the project's (a build of a changed project builds everything)."""
    fingerprint = project_fingerprint(load_manifest(manifest_file or _current_manifest(cfg)))
    with connect(cfg.warehouse_url()) as conn:
        last = _last_finished(conn)
    return last is not None and last[1] == fingerprint


def record_build(cfg: Settings, plan: BuildPlan) -> None:
    """Mark the build finished: the next plan compares with what it saw."""
    with connect(cfg.warehouse_url()) as conn:
        updated = conn.execute("update ops.warehouse_builds set finished_at = now() where id = %s",
                               (plan.build_id,)).rowcount
    if updated != 1:
        raise RuntimeError(f"warehouse build #{plan.build_id} is not in ops.warehouse_builds")


def announce(plan: BuildPlan) -> None:
    """The warehouse Asset's event is emitted only by a build that built something: a plan with nothing in
    it (the event of a night already built, replayed by the scheduler) skips the task that would emit it,
    so that the marts are not published again."""
    from airflow.sdk.exceptions import AirflowSkipException

    if plan.builds_nothing:
        raise AirflowSkipException(f"build #{plan.build_id} built nothing ({plan.reason}): no warehouse asset event")


def build_everything(cfg: Settings, manifest_file: Path, args: list[str] | None = None) -> None:
    """One ``dbt build`` of the whole project outside Airflow, recorded like a build of the DAG."""
    plan = plan_build(cfg, manifest_file, scope="all", run_id="dbt build (outside Airflow)")
    run_dbt(cfg, ["build", *(args or [])])
    record_build(cfg, plan)


# --- the tests that read two relations ---------------------------------------------------------------
def cross_model_tests(manifest: dict[str, Any]) -> dict[str, str]:
    """unique_id -> name of the data tests that read more than one relation or source (``relationships``),
    not the marts'.

    A node's task runs the tests of that node alone (cosmos with dbt's ``cautious`` indirect selection:
    lowincome.transform.cosmos_config). A test of a fact against a dimension built beside it can run only once
    both are built, so these run together in one dbt invocation after every node
    (:func:`run_cross_model_tests`), not as a task each, which would start dbt once per test.
    """
    found = {}
    for uid, node in manifest["nodes"].items():
        # sources count: dbt's cautious selection leaves out a test of a model and a source too
        parents = set(node.get("depends_on", {}).get("nodes", ()))
        if node["resource_type"] == "test" and len(parents) > 1 and not _is_mart(node):
            found[uid] = node["name"]
    return found


def _current_manifest(cfg: Settings) -> Path:
    return ensure_manifest(cfg)


def run_cross_model_tests(cfg: Settings, plan: BuildPlan, manifest_file: Path | None = None, *,
                          in_process: bool = False) -> list[str]:
    """Run the cross-model tests the plan includes (all of them in a build of everything), reading the
    plan's counties (``LOWINCOME_TEST_COUNTIES``); a failure raises UserError naming the first failing
    test. Returns the unique_ids run. ``in_process``: see :func:`lowincome.transform.run_dbt` (the DAG's
    task runs dbt in its own process, as cosmos runs the nodes)."""
    if plan.together:
        log.info("warehouse build #%s: the cross-model tests ran in %s", plan.build_id, TOGETHER_TASK_ID)
        return []
    manifest = load_manifest(manifest_file or _current_manifest(cfg))
    tests = {uid: name for uid, name in cross_model_tests(manifest).items() if plan.includes(uid)}
    if tests:
        run_dbt(cfg, ["test", "--select", *sorted(tests.values())], env={TEST_COUNTIES_ENV: plan.test_counties},
                in_process=in_process)
    log.info("warehouse build #%s: %s cross-model test(s) run", plan.build_id, len(tests))
    return sorted(tests)


def build_together(cfg: Settings, plan: BuildPlan, manifest_file: Path | None = None, *,
                   in_process: bool = False) -> list[str]:
    """Build a small plan's nodes with their tests, cross-model tests included, in one ``dbt build``
    (``plan.together``; the node tasks skip): dbt orders them, and a failing test stops what depends on
    it, as in the node tasks. Tests read the plan's counties. A view that exists is not created again
    (a plan of changes is of an unchanged project, so its definition is the same; new data shows through
    it), its tests run and still hold up what reads it (dbt keeps a test ahead of its parent's children
    through an unselected parent). A failure raises UserError naming the first failing node. Returns the
    unique_ids selected (none unless the plan builds together)."""
    if not plan.together:
        return []
    manifest = load_manifest(manifest_file or _current_manifest(cfg))
    views = {uid: relation for uid, relation in relations(manifest).items() if uid in plan.nodes
             and manifest["nodes"][uid].get("config", {}).get("materialized") == "view"}
    with connect(cfg.warehouse_url()) as conn:
        standing = set(views) - _missing(conn, views)
    selected = sorted(uid for uid in plan.nodes if uid in manifest["nodes"] and uid not in standing)
    names = sorted({manifest["nodes"][uid]["name"] for uid in selected})
    # exactly the planned nodes: the plan already holds every test below them (downstream)
    run_dbt(cfg, ["build", "--indirect-selection", "empty", "--select", *names],
            env={TEST_COUNTIES_ENV: plan.test_counties}, in_process=in_process)
    log.info("warehouse build #%s: %s node(s) built together", plan.build_id, len(selected))
    return selected


# --- the hook on cosmos's tasks ---------------------------------------------------------------------
def node_of(task: Any) -> str | None:
    """The dbt unique_id a cosmos task runs (cosmos puts the node into the task's extra context)."""
    config = (getattr(task, "extra_context", None) or {}).get("dbt_node_config") or {}
    return config.get("unique_id")


def planned_tasks(plan: BuildPlan, candidates: Any) -> list[str]:
    """The ids of the tasks among ``candidates`` (the branch's downstream tasks) to run: those whose dbt
    node the plan runs in its own task, ``build_together`` when the plan builds together, and any other
    task that runs no node. The branch marks the rest skipped, so they never start (each a task process
    under a real executor, an in-process run under ``dag.test()``). Airflow's branching leaves alone a
    task that is also downstream of a followed one (it waits for that one); such a task skips itself
    before dbt starts (:func:`skip_unless_planned`)."""
    def runs(task: Any) -> bool:
        if task.task_id == TOGETHER_TASK_ID:
            return plan.together
        uid = node_of(task)
        return uid is None or plan.runs_task_of(uid)

    return sorted(t.task_id for t in candidates if runs(t))


def skip_unless_planned(context: Any) -> None:
    """``pre_execute`` of every dbt task: skip (before dbt starts) a node the build's plan leaves out."""
    from airflow.sdk.exceptions import AirflowSkipException

    uid = node_of(context["task"])
    value = context["ti"].xcom_pull(task_ids=PLAN_TASK_ID)
    if uid is None or value is None:
        return  # not a node task, or run outside the DAG: run it
    plan = BuildPlan.from_xcom(value)
    if not plan.includes(uid):
        raise AirflowSkipException(f"{uid}: nothing new upstream of it in build #{plan.build_id} ({plan.reason})")
    if plan.together:
        raise AirflowSkipException(f"{uid}: built by {TOGETHER_TASK_ID} in build #{plan.build_id}")
