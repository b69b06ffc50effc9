"""The Airflow Assets that chain the DAGs, defined once.

An asset names a layer of the platform, never the server it is on: Airflow keeps one active asset per
name and per URI, so a URI that followed the warehouse (host, port, database) left the asset of the
last place inactive, and a night after a move, or on a second warehouse sharing the Airflow database,
failed in the task that publishes it (``AirflowInactiveAssetInInletOrOutletException``). Name and URI
are therefore constants. The relation that stands for the layer, for a lineage tool, is in ``extra``
(schema and table, the same on every warehouse).

The names changed with the URIs (``lowincome_raw`` was paired with a URI of the server): an Airflow
database that ran nights before still holds those pairs as active, and a new pair under an old name
could not be activated until Airflow's scheduler retired the old one. New names activate at once.
"""

from __future__ import annotations

from airflow.sdk import Asset

GROUP = "lowincome"

RAW = Asset(name="lowincome.raw", uri="lowincome://raw", group=GROUP,
            extra={"relation": "ops.submissions"})
WAREHOUSE = Asset(name="lowincome.warehouse", uri="lowincome://warehouse", group=GROUP,
                  extra={"relation": "warehouse.fct_household_income"})
MARTS = Asset(name="lowincome.marts", uri="lowincome://marts", group=GROUP,
              extra={"relation": "marts.target_attainment"})
