"""The warehouse build's plan: which dbt nodes have anything new upstream since the last finished build."""

from __future__ import annotations

import contextlib
import copy
import json

import pytest
import raw_fixture
from airflow.sdk.exceptions import AirflowSkipException

from lowincome import speedups
from lowincome.transform.plan import (
    TOGETHER_TASK_ID,
    BuildPlan,
    announce,
    build_together,
    built_as_project,
    cross_model_tests,
    downstream,
    plan_build,
    planned_tasks,
    project_fingerprint,
    record_build,
    run_cross_model_tests,
    triggered_by_templates,
)

RAW_INCOME = "source.p.raw.household_income"
RAW_VILLAGES = "source.p.raw.villages"
LEDGER = "source.p.ops.submissions"


def _manifest() -> dict:
    """A project shaped like ours: two raw templates, the ledger, staging views, facts and a test."""
    sources = {uid: {"name": uid.split(".")[-1], "source_name": uid.split(".")[-2], "relation_name": uid}
               for uid in (RAW_INCOME, RAW_VILLAGES, LEDGER)}
    parents = {
        "model.p.stg_income": [RAW_INCOME, LEDGER],
        "model.p.stg_villages": [RAW_VILLAGES, LEDGER],
        "model.p.stg_submissions": [LEDGER],
        "model.p.fct_income": ["model.p.stg_income", "model.p.stg_submissions"],
        "model.p.dim_village": ["model.p.stg_villages"],
        "model.p.fct_village": ["model.p.stg_villages", "model.p.stg_submissions"],
        "test.p.not_null_submissions": ["model.p.stg_submissions"],
        "test.p.relationships_income_village": ["model.p.fct_income", "model.p.dim_village"],
        "seed.p.counties": [],
    }
    children: dict[str, list[str]] = {uid: [] for uid in [*sources, *parents]}
    for child, ups in parents.items():
        for up in ups:
            children[up].append(child)
    nodes = {uid: {"resource_type": uid.split(".")[0], "checksum": {"checksum": uid}, "config": {},
                   "depends_on": {"nodes": ups}, "schema": "s", "name": uid.split(".")[-1]}
             for uid, ups in parents.items()}
    return {"nodes": nodes, "sources": sources, "child_map": children, "parent_map": parents,
            "macros": {"macro.p.m": {"macro_sql": "select 1"}}}


def test_a_template_plans_its_readers_and_what_reads_only_the_ledger():
    planned = triggered_by_templates(_manifest(), {"household_income"})
    # fct_village reads the ledger too, but only for the villages' submissions: not planned
    assert planned == {"model.p.stg_income", "model.p.stg_submissions", "model.p.fct_income",
                       "test.p.relationships_income_village", "test.p.not_null_submissions"}


def test_models_read_the_ledger_only_for_the_templates_they_read():
    """The rule the plan relies on: a model fed by raw data names no other template's submissions."""
    from lowincome.config import settings
    from lowincome.templates import templates
    from lowincome.transform import ensure_manifest
    from lowincome.transform.plan import load_manifest, upstream

    manifest = load_manifest(ensure_manifest(settings()))
    raw = {uid: s["name"] for uid, s in manifest["sources"].items() if s["source_name"] == "raw"}
    checked = 0
    for uid, node in manifest["nodes"].items():
        above = upstream(manifest, uid)
        reads = {raw[s] for s in above & set(raw)}
        if node["resource_type"] != "model" or not reads or "model.lowincome.stg_ops__submissions" not in above:
            continue
        named = {t for t in templates() if f"'{t}'" in node["raw_code"]}
        assert named <= reads, f"{uid} reads the ledger for {sorted(named - reads)} but not their raw tables"
        checked += 1
    assert checked >= 5


def test_nothing_changed_plans_nothing_and_an_unknown_template_plans_everything():
    assert triggered_by_templates(_manifest(), set()) == set()
    assert triggered_by_templates(_manifest(), {"a_template_without_a_source"}) is None


def test_downstream_follows_every_child_once():
    below = downstream(_manifest(), {"model.p.stg_villages"})
    assert below == {"model.p.stg_villages", "model.p.dim_village", "model.p.fct_village",
                     "test.p.relationships_income_village"}


def test_the_tests_of_two_relations_are_the_cross_model_tests_but_the_marts():
    manifest = _manifest()
    assert cross_model_tests(manifest) == {"test.p.relationships_income_village": "relationships_income_village"}
    manifest["nodes"]["test.p.not_null_submissions"]["depends_on"]["nodes"].append(LEDGER)    # and a source
    assert set(cross_model_tests(manifest)) == {"test.p.relationships_income_village", "test.p.not_null_submissions"}
    manifest["nodes"]["test.p.relationships_income_village"]["original_file_path"] = "models/marts/m.yml"
    assert set(cross_model_tests(manifest)) == {"test.p.not_null_submissions"}


def test_the_fingerprint_follows_code_not_manifest_noise():
    manifest = _manifest()
    same = copy.deepcopy(manifest)
    same["metadata"] = {"generated_at": "another time"}
    assert project_fingerprint(manifest) == project_fingerprint(same)
    edited = copy.deepcopy(manifest)
    edited["nodes"]["model.p.fct_income"]["checksum"] = {"checksum": "edited"}
    macro = copy.deepcopy(manifest)
    macro["macros"]["macro.p.m"]["macro_sql"] = "select 2"
    config = copy.deepcopy(manifest)
    config["nodes"]["model.p.dim_village"]["config"] = {"materialized": "table"}
    assert len({project_fingerprint(m) for m in (manifest, edited, macro, config)}) == 4


def test_the_plan_travels_through_xcom_unchanged():
    plan = BuildPlan(7, "changes", "because", frozenset({"model.p.a", "test.p.b"}), ("330109", "330803"))
    assert BuildPlan.from_xcom(plan.to_xcom()) == plan and plan.to_xcom()["test_counties"] == "330109,330803"
    assert BuildPlan(9, "changes", "no counties", frozenset(), ()).test_counties == ""
    assert plan.includes("model.p.a") and not plan.includes("model.p.c")
    assert BuildPlan(8, "all", "first").includes("model.p.c")
    together = BuildPlan(10, "changes", "small", frozenset({"model.p.a"}), ("330109",), together=True)
    assert BuildPlan.from_xcom(together.to_xcom()) == together and together.includes("model.p.a")
    assert not together.runs_task_of("model.p.a") and plan.runs_task_of("model.p.a")


def _task(task_id: str, unique_id: str | None = None):
    from types import SimpleNamespace

    context = {"dbt_node_config": {"unique_id": unique_id}} if unique_id else {}
    return SimpleNamespace(task_id=task_id, extra_context=context)


def test_the_branch_follows_the_planned_node_tasks_or_the_build_together():
    tasks = [_task("dbt.a", "model.p.a"), _task("dbt.b", "model.p.b"), _task(TOGETHER_TASK_ID), _task("other")]
    apart = BuildPlan(1, "changes", "big", frozenset({"model.p.a"}))
    assert planned_tasks(apart, tasks) == ["dbt.a", "other"]
    assert planned_tasks(BuildPlan(2, "all", "everything"), tasks) == ["dbt.a", "dbt.b", "other"]
    assert planned_tasks(BuildPlan(3, "changes", "small", apart.nodes, together=True), tasks) == [
        TOGETHER_TASK_ID, "other"]


@pytest.mark.slow
def test_plans_follow_the_ledger_of_the_real_project(new_warehouse):
    from lowincome.transform import ensure_manifest

    warehouse = new_warehouse()
    cfg = warehouse.cfg
    manifest = ensure_manifest(cfg)
    with warehouse.connect() as conn:
        raw_fixture.load_demo(conn, years=(2012, 2013))

    first = plan_build(cfg, manifest, run_id="t1")
    assert first.scope == "all" and "no finished build" in first.reason
    warehouse.dbt("build", "--exclude", "path:models/marts")
    assert not built_as_project(cfg, manifest)
    record_build(cfg, first)
    assert built_as_project(cfg, manifest)       # the marts' refresh need not reload the seeds

    quiet = plan_build(cfg, manifest, run_id="t2")
    assert (quiet.scope, quiet.nodes) == ("changes", frozenset())
    assert "no new submissions" in quiet.reason
    # a quiet night's build emits no warehouse event: the marts are not published again
    assert quiet.builds_nothing and not first.builds_nothing
    with pytest.raises(AirflowSkipException, match="built nothing"):
        announce(quiet)
    announce(first)
    record_build(cfg, quiet)

    with warehouse.connect() as conn:   # one county corrects its 2013 income file
        raw_fixture.load_submission(conn, "household_income", raw_fixture.QUJIANG, 2013,
                                    raw_fixture.income_rows(raw_fixture.QUJIANG, 2013, scale=1.1))
    corrected = plan_build(cfg, manifest, run_id="t3")
    names = {uid.split(".")[-1] for uid in corrected.nodes if uid.startswith("model.")}
    # three models: built together, in one dbt run; a first build and a quiet night are not
    assert corrected.together and "built together" in corrected.reason
    assert not first.together and not quiet.together
    assert {"stg_raw__household_income", "stg_ops__submissions", "fct_household_income"} <= names
    assert not names & {"stg_raw__villages", "dim_village", "fct_relocation", "dim_household"}
    assert not any(uid.startswith("seed.") for uid in corrected.nodes)
    assert first.test_counties == "*" and corrected.test_counties == raw_fixture.QUJIANG
    # that build fails (never recorded): the next plan still holds the correction
    again = plan_build(cfg, manifest, run_id="t4")
    assert again.nodes == corrected.nodes
    record_build(cfg, again)    # (the plan reads the ledger and the relations, not what dbt did)

    with warehouse.connect() as conn:   # a relation dropped by hand is rebuilt, with what reads it
        conn.execute("drop table warehouse.dim_village cascade")
    dropped = plan_build(cfg, manifest, run_id="t5")
    assert "model.lowincome.dim_village" in dropped.nodes and "1 relation(s) missing" in dropped.reason
    assert "model.lowincome.fct_household_income" not in dropped.nodes
    assert dropped.test_counties == "*"     # a rebuilt relation may change any county's rows
    assert plan_build(cfg, manifest, scope="all", run_id="t6").scope == "all"
    with warehouse.connect() as conn:
        recorded = conn.execute("select run_id, scope, finished_at is not null, nodes_planned "
                                "from ops.warehouse_builds order by id").fetchall()
    assert [(r[0], r[1], r[2]) for r in recorded] == [
        ("t1", "all", True), ("t2", "changes", True), ("t3", "changes", False), ("t4", "changes", True),
        ("t5", "changes", False), ("t6", "all", False)]
    assert recorded[1][3] == 0 and recorded[2][3] == len(corrected.nodes)


@pytest.mark.slow
@pytest.mark.skipif(not speedups.enabled(), reason="a speed-up: off with LOWINCOME_SPEEDUPS=0")
def test_tests_read_the_counties_of_the_build(built_warehouse):
    """LOWINCOME_TEST_COUNTIES or the test_counties var (macros/speedups/test_scope.sql): only the rows of those
    counties' files in relations keyed by submission; the var wins over the environment."""
    from lowincome.errors import UserError
    from lowincome.transform.project import TEST_COUNTIES_ENV, run_dir

    quijang, xiaoshan = raw_fixture.QUJIANG, raw_fixture.XIAOSHAN
    view = ["test", "--select", "stg_raw__household_income"]
    with built_warehouse.connect() as conn:
        rows = {county: conn.execute(
            "select _submission_id, _source_row, household_key from raw.household_income where county_code = %s "
            "order by 1, 2 limit 1", (county,)).fetchone() for county in (quijang, xiaoshan)}
        # a Xiaoshan row loses its key
        conn.execute("update raw.household_income set household_key = null where _submission_id = %s "
                     "and _source_row = %s", rows[xiaoshan][:2])
    try:
        built_warehouse.dbt(*view, env={TEST_COUNTIES_ENV: quijang})        # not read
        log = run_dir(built_warehouse.cfg) / "logs" / "dbt.log"
        logged = log.stat().st_size
        with pytest.raises(UserError, match="not_null_stg_raw__household_income_household_key"):
            built_warehouse.dbt(*view, env={TEST_COUNTIES_ENV: xiaoshan})     # read
        with log.open("rb") as handle:    # other counties, and dbt did not parse the project again
            assert b"no changes found, skipping parsing" in handle.read()[logged:]
        with pytest.raises(UserError, match="not_null_stg_raw__household_income_household_key"):
            built_warehouse.dbt(*view, "--vars", f"{{test_counties: '{xiaoshan}'}}")     # the var, by hand
        built_warehouse.dbt(*view, "--vars", f"{{test_counties: '{quijang}'}}", env={TEST_COUNTIES_ENV: xiaoshan})
        with built_warehouse.connect() as conn:   # a row without a county is read with the rest of its file
            conn.execute("update raw.household_income set county_code = null where _submission_id = %s "
                         "and _source_row = %s", rows[quijang][:2])
        built_warehouse.dbt(*view, "--vars", "{test_counties: '330999'}")     # a county without files: none read
        with pytest.raises(UserError, match="not_null_stg_raw__household_income_county_code"):
            built_warehouse.dbt(*view, "--vars", f"{{test_counties: '{quijang}'}}")
    finally:
        with built_warehouse.connect() as conn:
            conn.execute("update raw.household_income set county_code = %s where _submission_id = %s "
                         "and _source_row = %s", (quijang, *rows[quijang][:2]))
            conn.execute("update raw.household_income set household_key = %s where _submission_id = %s "
                         "and _source_row = %s", (rows[xiaoshan][2], *rows[xiaoshan][:2]))


@contextlib.contextmanager
def _without_county(warehouse, county: str):
    """The county is out of the county dimension for the block (a relationships test of its rows fails)."""
    with warehouse.connect() as conn:
        conn.execute("create table public.saved_county as select * from warehouse.dim_county where county_code = %s",
                     (county,))
        conn.execute("delete from warehouse.dim_county where county_code = %s", (county,))
    try:
        yield
    finally:
        with warehouse.connect() as conn:
            conn.execute("insert into warehouse.dim_county select * from public.saved_county")
            conn.execute("drop table public.saved_county")


@pytest.mark.slow
@pytest.mark.skipif(not speedups.enabled(), reason="tests scoped to a build's counties are a speed-up: off with LOWINCOME_SPEEDUPS=0")
def test_cross_model_tests_run_together_on_the_plan_and_its_counties(built_warehouse):
    """run_cross_model_tests: every relationship test in a build of everything, one dbt invocation; in a
    build of some counties, the planned tests on those counties' rows of the child relation."""
    import dataclasses

    from lowincome.errors import UserError
    from lowincome.transform import ensure_manifest
    from lowincome.transform.plan import load_manifest, run_cross_model_tests

    cfg, manifest_file = built_warehouse.cfg, ensure_manifest(built_warehouse.cfg)
    every = run_cross_model_tests(cfg, BuildPlan(1, "all", "a build of everything"), manifest_file)
    assert every == sorted(cross_model_tests(load_manifest(manifest_file))) and len(every) >= 20
    income = BuildPlan(2, "changes", "income files", frozenset(u for u in every if ".relationships_fct_household_income_" in u),
                       (raw_fixture.QUJIANG,))
    assert len(income.nodes) == 3
    with _without_county(built_warehouse, raw_fixture.XIAOSHAN):     # Xiaoshan leaves the county dimension
        assert run_cross_model_tests(cfg, income, manifest_file) == sorted(income.nodes)     # Qujiang's rows
        with pytest.raises(UserError, match="relationships_fct_household_income_county_code"):
            run_cross_model_tests(cfg, dataclasses.replace(income, counties=(raw_fixture.XIAOSHAN,)), manifest_file)


@pytest.mark.slow
@pytest.mark.skipif(not speedups.enabled(), reason="tests scoped to a build's counties are a speed-up: off with LOWINCOME_SPEEDUPS=0")
def test_a_small_plan_is_built_together_with_its_tests_on_its_counties(built_warehouse):
    """build_together: one dbt build of the planned nodes and tests (relationships included), reading the
    plan's counties; the cross-model task then has nothing left to run."""
    import dataclasses

    from lowincome.errors import UserError
    from lowincome.transform import ensure_manifest
    from lowincome.transform.plan import _built_here, load_manifest
    from lowincome.transform.project import run_dir

    cfg, manifest_file = built_warehouse.cfg, ensure_manifest(built_warehouse.cfg)
    manifest = load_manifest(manifest_file)
    view = "model.lowincome.stg_raw__household_income"
    current = "model.lowincome.int_household_income_filtered_to_current"     # a view over it
    below = _built_here(manifest, downstream(manifest, {view}))  # no marts
    plan = BuildPlan(4, "changes", "income files", frozenset(below), (raw_fixture.QUJIANG,), together=True)
    assert build_together(cfg, dataclasses.replace(plan, together=False), manifest_file) == []
    assert any(".relationships_fct_household_income_" in uid for uid in plan.nodes)
    with _without_county(built_warehouse, raw_fixture.XIAOSHAN):     # Xiaoshan leaves the county dimension
        # Qujiang's rows only; the standing views are not created again, their tests run
        assert build_together(cfg, plan, manifest_file) == sorted(plan.nodes - {view, current})
        assert any(uid.startswith("test.") and ".not_null_stg_raw__household_income_" in uid for uid in plan.nodes)
        assert run_cross_model_tests(cfg, plan, manifest_file) == []
        with pytest.raises(UserError, match="relationships_fct_household_income_county_code"):
            build_together(cfg, dataclasses.replace(plan, counties=(raw_fixture.XIAOSHAN,)), manifest_file)
    # a test of the standing view still holds up what reads it: a Qujiang income row without its household
    results = run_dir(cfg) / "target" / "run_results.json"
    with built_warehouse.connect() as conn:
        key = conn.execute("select _submission_id, _source_row, household_key from raw.household_income "
                           "where county_code = %s order by 1, 2 limit 1", (raw_fixture.QUJIANG,)).fetchone()
        conn.execute("update raw.household_income set household_key = null where _submission_id = %s "
                     "and _source_row = %s", key[:2])
    try:
        with pytest.raises(UserError, match="not_null_stg_raw__household_income_household_key"):
            build_together(cfg, plan, manifest_file)
        status = {r["unique_id"]: r["status"] for r in json.loads(results.read_text())["results"]}
        assert status["model.lowincome.fct_household_income"] == "skipped"
    finally:
        with built_warehouse.connect() as conn:
            conn.execute("update raw.household_income set household_key = %s where _submission_id = %s "
                         "and _source_row = %s", (key[2], *key[:2]))
    with built_warehouse.connect() as conn:       # a view dropped by hand is created again
        conn.execute("drop view staging.stg_raw__household_income cascade")
    assert build_together(cfg, plan, manifest_file) == sorted(plan.nodes)
