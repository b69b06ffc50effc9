"""The Assets that chain the DAGs name the platform's layers, never the server the warehouse is on (issue 22).

Airflow keeps one active asset per name and per URI: a URI that followed the warehouse (host, port,
database) left the previous one active, and the first night after a move failed in the task that
publishes it (AirflowInactiveAssetInInletOrOutletException). Each process computes the assets afresh, so
each is read in a process of its own, as a night after the move would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

READ = ("import json; from lowincome.assets import MARTS, RAW, WAREHOUSE; "
        "print(json.dumps([[a.name, a.uri, a.extra] for a in (RAW, WAREHOUSE, MARTS)]))")


def assets_seen_with(url: str) -> list:
    env = {**os.environ, "LOWINCOME_WAREHOUSE_URL": url}
    done = subprocess.run([sys.executable, "-c", READ], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_assets_are_the_same_wherever_the_warehouse_is():
    here = assets_seen_with("postgresql://lowincome@127.0.0.1:55432/lowincome")
    moved = assets_seen_with("postgresql://stats@db.example.org:6543/warehouse_2")
    assert here == moved
    assert [name for name, _uri, _extra in here] == ["lowincome.raw", "lowincome.warehouse", "lowincome.marts"]
    for _name, uri, extra in here:
        assert uri.startswith("lowincome://")
        assert not any(part in uri for part in ("127.0.0.1", "55432", "postgres"))
        assert extra["relation"].split(".")[0] in ("ops", "warehouse", "marts")
