"""The dbt warehouse: paths and profiles for dbt and cosmos, and running dbt outside Airflow.

Importing this package does not import cosmos or Airflow; the cosmos configs import them when called.
"""

from lowincome.transform.cosmos_config import (
    execution_config,
    operator_args,
    profile_config,
    project_config,
    render_config,
)
from lowincome.transform.project import manifest_path, write_profiles
from lowincome.transform.runs import build_docs, ensure_manifest, run_dbt

__all__ = [
    "build_docs",
    "ensure_manifest",
    "execution_config",
    "manifest_path",
    "operator_args",
    "profile_config",
    "project_config",
    "render_config",
    "run_dbt",
    "write_profiles",
]
