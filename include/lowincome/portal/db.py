"""The portal's tables in ``ops`` (``sql/portal.sql``), its connections and the audit log."""

from __future__ import annotations

from importlib import resources

import psycopg

from lowincome.config import Settings
from lowincome.warehouse import ensure_ready

APPLICATION = "lowincome-portal"
LOCK_PORTAL_SCHEMA = 7311   # advisory: one creation of the portal's tables at a time


def connect(cfg: Settings) -> psycopg.Connection:
    return psycopg.connect(cfg.warehouse_url(), autocommit=True, connect_timeout=10, application_name=APPLICATION)


def ensure_tables(cfg: Settings) -> None:
    """The warehouse as every command leaves it, plus the portal's tables (idempotent)."""
    ensure_ready(cfg)
    with connect(cfg) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_PORTAL_SCHEMA,))
        conn.execute(resources.files("lowincome").joinpath("sql/portal.sql").read_text())


def audit(conn: psycopg.Connection, user: dict | None, action: str, obj: str | None, outcome: str,
          *, username: str | None = None) -> None:
    """One line of ``ops.portal_actions``: who (login name, county), what, on which object, how it ended."""
    conn.execute("insert into ops.portal_actions (username, county_code, action, object, outcome) "
                 "values (%s, %s, %s, %s, %s)",
                 (user["username"] if user else username, user["county_code"] if user else None, action,
                  obj, outcome))
