"""A publication records the warehouse build it published; a run Airflow starts on an asset event for a
build already published is a recorded no-op ('unchanged'), a run someone triggered always publishes."""

from __future__ import annotations

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowSkipException

from lowincome.publish import plan_publication, record_publication


def _finished_build(conn, scope: str = "all", nodes: int | None = None) -> int:
    return conn.execute(
        "insert into ops.warehouse_builds (run_id, scope, reason, project_fingerprint, loaded_submissions, "
        "nodes_planned, finished_at) values ('b', %s, 'test', 'f', '{}', %s, now()) returning id",
        (scope, nodes)).fetchone()[0]


def _publications(conn) -> list[tuple]:
    return conn.execute("select run_id, warehouse_build, outcome from ops.publications order by id").fetchall()


def test_an_asset_event_for_a_published_build_is_a_recorded_no_op(empty_warehouse):
    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        assert plan_publication(empty_warehouse, "none", on_asset_event=True) is None   # no build on record
        build = _finished_build(conn)
        # the night's own publication (lowincome run: a manual run)
        assert plan_publication(empty_warehouse, "manual__1", on_asset_event=False) == build
        record_publication(empty_warehouse, "manual__1", build)
        # the scheduler's build on the night's raw event had nothing to build: the warehouse is as published
        _finished_build(conn, "changes", 0)
        # the event that night emitted, replayed by the scheduler: nothing is published again
        with pytest.raises(AirflowSkipException, match=f"#{build} is already published"):
            plan_publication(empty_warehouse, "asset_triggered__2", on_asset_event=True)
        # someone asks for it: published again
        assert plan_publication(empty_warehouse, "manual__3", on_asset_event=False) == build
        # a new build: its event publishes it
        newer = _finished_build(conn, "changes", 3)
        assert plan_publication(empty_warehouse, "asset_triggered__4", on_asset_event=True) == newer
        assert _publications(conn) == [("manual__1", build, "published"),
                                       ("asset_triggered__2", build, "unchanged")]
