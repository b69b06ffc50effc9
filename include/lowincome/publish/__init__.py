"""Publishing the monitoring marts: refresh them, secure them, and write the report.

The publish DAG (dags/publish_monitoring.py) calls, in order: :func:`refresh_marts`,
:func:`refresh_grants`, dbt docs, GX Data Docs and :func:`write_report`.
"""

from lowincome.publish.access import apply_row_security, county_role, grant_county_access, refresh_grants
from lowincome.publish.history import indicator_values_as_of, target_attainment_as_of
from lowincome.publish.marts import plan_publication, record_publication, refresh_marts
from lowincome.publish.report import write_report

__all__ = [
    "apply_row_security",
    "county_role",
    "grant_county_access",
    "indicator_values_as_of",
    "plan_publication",
    "record_publication",
    "refresh_grants",
    "refresh_marts",
    "target_attainment_as_of",
    "write_report",
]
