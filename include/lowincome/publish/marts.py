"""Refreshing the published marts: dbt builds ``models/marts`` and the intermediate models only they read
(``models/intermediate/publication``), with their tests, on the warehouse.

``published_at`` is the publication's timestamp: it decides which figures are still provisional (their
reporting deadline has not passed) and stamps the new versions in the publication histories. The DAG
passes its run's time so that a retried task publishes the same publication.
"""

from __future__ import annotations

from datetime import datetime

from lowincome.config import Settings
from lowincome.publish.disclosure import build_audited_marts
from lowincome.transform.plan import built_as_project
from lowincome.transform.project import PUBLICATION_SELECTOR
from lowincome.warehouse import connect

MARTS_SELECTOR = PUBLICATION_SELECTOR
SEEDS = ("targets", "reporting_calendar", "evaluation_weights")


def refresh_marts(cfg: Settings, published_at: datetime | None = None, *, in_process: bool = False) -> None:
    """Build and test every mart (one dbt build), with the seeds of the plan (targets, reporting
    calendar, evaluation weights) first unless the warehouse holds them as the project has them.

    The warehouse build loads every seed whenever the dbt project changed since its last finished build
    (lowincome.transform.plan), so after a finished build of the current project they are current and
    reloading them (and their ten tests) would only hold up the marts that read them. A project changed
    since (a seed edited, a publication by hand before the next build) or a warehouse without a recorded
    build (built outside Airflow) reloads them here.

    ``published_at`` goes to dbt in the environment, not as ``--vars``: dbt re-parses the whole project
    whenever its vars differ from the last run's (every night), but only the files that read an
    environment variable when that changes. ``in_process``: see :func:`lowincome.transform.run_dbt` (the
    publishing DAG's task runs dbt in its own process).
    """
    env = {}
    if published_at is not None:
        if published_at.tzinfo is None:
            raise ValueError("published_at must be timezone-aware")
        env["LOWINCOME_PUBLISHED_AT"] = published_at.isoformat()
    seeds = [] if built_as_project(cfg) else list(SEEDS)
    # dbt computes the figures and primary suppression, the disclosure audit the secondary, dbt the marts
    build_audited_marts(cfg, seeds, MARTS_SELECTOR, env, published_at, in_process=in_process)


def plan_publication(cfg: Settings, run_id: str, *, on_asset_event: bool) -> int | None:
    """The warehouse build a publication publishes: the last finished one that built something (None:
    none on record).

    A run Airflow started on an asset event (``on_asset_event``) whose build was already published (the
    event of a build that ``lowincome run`` published itself, a second event for the same build) does not
    publish the same marts again: it is recorded as 'unchanged' in ``ops.publications`` and its tasks are
    skipped. A run someone triggered always publishes.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    with connect(cfg.warehouse_url()) as conn:
        # a build with nothing planned left the warehouse as it was: it is not a new state to publish
        row = conn.execute("select max(id) from ops.warehouse_builds where finished_at is not null "
                           "and (scope = 'all' or nodes_planned > 0)").fetchone()
        build = row[0] if row else None
        replayed = on_asset_event and build is not None and conn.execute(
            "select 1 from ops.publications where warehouse_build = %s and outcome = 'published'",
            (build,)).fetchone() is not None
        if replayed:
            conn.execute("insert into ops.publications (run_id, warehouse_build, outcome) "
                         "values (%s, %s, 'unchanged')", (run_id, build))
    if replayed:   # after the commit: the no-op stays on record
        raise AirflowSkipException(f"warehouse build #{build} is already published: nothing to publish again")
    return build


def record_publication(cfg: Settings, run_id: str, build: int | None) -> None:
    """The publication of ``build`` is readable: recorded as 'published' in ``ops.publications``."""
    with connect(cfg.warehouse_url()) as conn:
        conn.execute("insert into ops.publications (run_id, warehouse_build, outcome) values (%s, %s, 'published')",
                     (run_id, build))
