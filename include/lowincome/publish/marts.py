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
    """Seeds of the plan (targets, reporting calendar), then build and test every mart: one dbt build.

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
    run_dbt(cfg, ["build", "--select", *SEEDS, MARTS_SELECTOR], env=env, in_process=in_process)
