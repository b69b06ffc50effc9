"""Section ``disclosure``: the disclosure audit's share of a publication (issue 24.1).

On the five-year warehouse (built by the incremental section, or here when run alone), one more
publication through :func:`lowincome.publish.refresh_marts`, as the publish DAG makes it: dbt builds the
partial sums and ``int_metric_values_primary_suppressed``, the audit solves the attacker's linear programmes for every hidden
cell (and hides more until each is protected), dbt builds the marts. The audit's own time is the one it
records in ``ops.disclosure_audits``; the rest of the publication is the wall time less that.
Target: the audit takes at most half the time of the rest of the publication (it must not dominate the
night).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from benchmarks.harness import Bench, Goal, Result
from benchmarks.incremental import five_year_warehouse
from benchmarks.night import needs as night_needs

SECTION = "disclosure"
MEASURE = "disclosure audit share of a publication"
TARGET = 0.5


def needs(bench: Bench) -> str | None:
    return night_needs(bench)


def run(bench: Bench) -> list[Result]:
    from lowincome.publish import refresh_marts

    built = five_year_warehouse(bench)
    started = time.perf_counter()
    refresh_marts(bench.cfg, datetime.now(UTC))
    wall = time.perf_counter() - started
    with bench.connect() as conn:
        row = conn.execute(
            "select seconds, cells_audited, hidden_primary, hidden_secondary, rounds, passed "
            "from ops.disclosure_audits order by id desc limit 1").fetchone()
    if row is None or not row[5]:
        raise RuntimeError("the publication recorded no passed disclosure audit")
    audit = float(row[0])
    rest = wall - audit
    return [Result(
        SECTION, MEASURE, audit, "s", "rest of the publication", rest, audit / rest,
        goal=Goal("≤", TARGET),
        note=f"publication {wall:.1f} s; {row[1]:,} family cells audited, {row[2]:,} hidden (primary), "
             f"{row[3]:,} (secondary), {row[4]} rounds at most; 5 years at scale {built['scale']:g}",
        details={"wall_seconds": wall, "audit_seconds": audit, "cells_audited": row[1],
                 "hidden_primary": row[2], "hidden_secondary": row[3], "rounds": row[4]})]
