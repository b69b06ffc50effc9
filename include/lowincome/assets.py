"""The Airflow Assets that chain the DAGs, defined once.

Their URIs name the warehouse tables that stand for each layer, on the server in use, so that a
lineage tool sees real tables. They are computed from configuration only (no connection is made).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow.sdk import Asset

from lowincome.config import settings


def _base() -> str:
    parts = urlsplit(settings().warehouse_url())
    database = parts.path.lstrip("/") or "lowincome"
    return f"postgres://{parts.hostname}:{parts.port or 5432}/{database}"


RAW = Asset(name="lowincome_raw", uri=f"{_base()}/ops/submissions", group="lowincome")
WAREHOUSE = Asset(name="lowincome_warehouse", uri=f"{_base()}/warehouse/fct_household_income", group="lowincome")
MARTS = Asset(name="lowincome_marts", uri=f"{_base()}/marts/target_attainment", group="lowincome")
