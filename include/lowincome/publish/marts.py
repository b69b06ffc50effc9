"""Refreshing the published marts: dbt builds ``models/marts`` (with their tests) on the warehouse.

``published_at`` is the publication's timestamp: it decides which figures are still provisional (their
reporting deadline has not passed) and stamps the new versions in the publication histories. The DAG
passes its run's time so that a retried task publishes the same publication.
"""

from __future__ import annotations

from datetime import datetime

from lowincome.config import Settings
from lowincome.transform import run_dbt

MARTS_SELECTOR = "path:models/marts"
SEEDS = ("targets", "reporting_calendar")


def refresh_marts(cfg: Settings, published_at: datetime | None = None, *, in_process: bool = False) -> None:
    """Build and test every mart (one dbt build), with the seeds of the plan (targets, reporting
    calendar) first unless the warehouse holds them as the project has them.

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
    from lowincome.transform.plan import built_as_project

    env = {}
    if published_at is not None:
        if published_at.tzinfo is None:
            raise ValueError("published_at must be timezone-aware")
        env["LOWINCOME_PUBLISHED_AT"] = published_at.isoformat()
    seeds = [] if built_as_project(cfg) else list(SEEDS)
    run_dbt(cfg, ["build", "--select", *seeds, MARTS_SELECTOR], env=env, in_process=in_process)
