"""dbt in cosmos's tasks: the behaviour-flag source lookup gives the same answer without inspect.stack()."""

from __future__ import annotations

import pytest
from dbt_common import behavior_flags

from lowincome import speedups
from lowincome.speedups import dbt_flags as inprocess

FLAG = {"name": "some_flag", "default": False, "description": "a flag without a source of its own"}


@pytest.fixture
def shipped():
    """The lookup as dbt-common ships it, restored after the test (install() is process-wide)."""
    cls = behavior_flags.BehaviorFlagRendered
    original = cls.__dict__["_default_source"]
    installed = inprocess._installed
    inprocess._installed = False
    yield cls
    cls._default_source = original
    inprocess._installed = installed


def _source() -> str:
    return behavior_flags.Behavior([FLAG], {})._flags[0]._behavior_change_event.flag_source


def _from_a_deep_stack(depth: int) -> str:
    return _source() if depth == 0 else _from_a_deep_stack(depth - 1)


@pytest.mark.skipif(not speedups.enabled(), reason="the speed-ups are off (LOWINCOME_SPEEDUPS=0): nothing is installed")
def test_the_installed_lookup_names_the_same_module_as_dbts(shipped):
    original = shipped.__dict__["_default_source"]
    before = _from_a_deep_stack(40)
    assert before == __name__
    assert inprocess.install()
    assert shipped.__dict__["_default_source"] is not original and _from_a_deep_stack(40) == before
    assert inprocess.install()      # once per process: a second call changes nothing
    assert _source() == before


def test_another_dbt_common_is_left_as_shipped(shipped, monkeypatch):
    monkeypatch.setattr(inprocess, "CHECKED_FOR", ("0.0.",))
    original = shipped.__dict__["_default_source"]
    assert inprocess.install() is False
    assert shipped.__dict__["_default_source"] is original


def test_the_dag_tasks_write_no_json_and_plan_first(cfg):
    from lowincome.pipeline import load_dags

    dag = load_dags(cfg)["build_warehouse"]
    nodes = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert nodes and all(t.dbt_cmd_global_flags == ["--no-write-json"] for t in nodes)
    assert all(t.trigger_rule == "none_failed" for t in nodes)
    # every node's task right after the branch that skips what the plan leaves out, which follows the plan
    # (or build_together, which builds a small plan in one dbt run)
    assert all("skip_unplanned" in t.upstream_task_ids for t in nodes)
    assert dag.get_task("skip_unplanned").downstream_task_ids == {t.task_id for t in nodes} | {"build_together"}
    assert dag.get_task("skip_unplanned").upstream_task_ids == {"plan_build"}


class _TaskInstance:
    def __init__(self, plan):
        self.plan = plan

    def xcom_pull(self, task_ids):
        assert task_ids == "plan_build"
        return self.plan


def test_the_tested_counties_come_from_the_plan_or_read_everything():
    import jinja2

    from lowincome.transform import operator_args
    from lowincome.transform.project import TEST_COUNTIES_ENV

    assert "vars" not in operator_args()      # a var that changes every night makes dbt re-parse everything
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        operator_args()["env"][TEST_COUNTIES_ENV])
    assert template.render(ti=_TaskInstance({"test_counties": "330109,330803"})) == "330109,330803"
    assert template.render(ti=_TaskInstance(None)) == "*"      # a task cleared from a run without a plan
