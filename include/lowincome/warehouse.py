"""Reaching the warehouse and making it ready: databases, schemas, roles, ledger tables.

Every command calls :func:`ensure_ready`, so the platform works on an empty server. All of it is
idempotent (``if not exists``) and safe to run concurrently with itself: the DDL runs under a
transaction-level advisory lock.
"""

from __future__ import annotations

import contextlib
import logging
from importlib import resources

import psycopg
from psycopg import sql

from lowincome.config import Settings, redact, settings, with_database
from lowincome.errors import UserError, WarehouseUnavailable
from lowincome.templates import raw_table_ddl, templates

log = logging.getLogger(__name__)

SCHEMAS = ("raw", "ops", "staging", "intermediate", "warehouse", "snapshots", "marts")

# Least privilege, by name. Group roles (NOLOGIN); people and tools log in as members.
ROLE_GRANTS: dict[str, dict[str, str]] = {
    # writes the raw layer and the ledger, reads nothing it did not write
    "lowincome_loader": {"raw": "insert", "ops": "select, insert, update"},
    # dbt: reads raw and ops, owns what it builds
    "lowincome_transformer": {
        "raw": "select", "ops": "select", "staging": "all", "intermediate": "all",
        "warehouse": "all", "snapshots": "all", "marts": "all",
    },
    # statisticians: the warehouse, the marts and data quality; never raw
    "lowincome_analyst": {"warehouse": "select", "marts": "select", "ops": "select"},
    # BI tools: the published marts only
    "lowincome_bi": {"marts": "select"},
}

# The group roles that may create temporary tables in the warehouse database (nobody else: see _ensure_roles).
TEMP_ROLES = ("lowincome_loader", "lowincome_transformer", "lowincome_analyst", "lowincome_bi")

# The oldest PostgreSQL the warehouse runs on (server_version_num): 15, the oldest major version in
# community support; 15 to 18 are tested (README, "Supported PostgreSQL versions").
OLDEST_SERVER = 150000

LOCK_BOOTSTRAP = 7_301_001


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    target = url or settings().warehouse_url()
    try:
        return psycopg.connect(target, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as err:
        reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        hint = ("run `lowincome db start`" if settings().embedded
                else "check LOWINCOME_WAREHOUSE_URL and that the server is up")
        raise WarehouseUnavailable(f"cannot reach the warehouse at {redact(target)}: {reason}; {hint}") from None


def unsupported_server(version_num: int) -> str | None:
    """Why a server of this ``server_version_num`` cannot hold the warehouse (one line), or None."""
    if version_num >= OLDEST_SERVER:
        return None
    major = version_num // 10000
    found = f"{major}.{version_num % 10000}" if major >= 10 else f"{major}.{version_num // 100 % 100}.{version_num % 100}"
    return (f"the warehouse server runs PostgreSQL {found} (server_version_num {version_num}); lowincome needs "
            f"PostgreSQL {OLDEST_SERVER // 10000} or newer (server_version_num >= {OLDEST_SERVER}): upgrade it "
            "or point LOWINCOME_WAREHOUSE_URL at a newer server")


def require_supported_server(conn: psycopg.Connection) -> None:
    """Refuse a server older than :data:`OLDEST_SERVER` before anything is created on it."""
    problem = unsupported_server(conn.info.server_version)
    if problem:
        raise UserError(problem)


def ensure_server(cfg: Settings | None = None) -> None:
    """Start the embedded server when it is the one in use; check reachability either way."""
    cfg = cfg or settings()
    if cfg.embedded:
        from lowincome.embedded import EmbeddedServer

        EmbeddedServer(cfg).start()


def ensure_databases(cfg: Settings) -> None:
    """Create the warehouse and Airflow metadata databases when the server lacks them."""
    url = cfg.warehouse_url()
    wanted = [url.rsplit("/", 1)[-1].split("?")[0], cfg.airflow_metadata_url().rsplit("/", 1)[-1].split("?")[0]]
    try:
        conn = connect(with_database(url, "postgres"), autocommit=True)
    except WarehouseUnavailable:
        # Some managed servers forbid the maintenance database; then the databases must exist already.
        return
    with conn:
        require_supported_server(conn)
        for name in wanted:
            exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
            if not exists:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        # Airflow's metadata is for Airflow (it connects as the database's owner): no other login may connect
        # and list its tables (PostgreSQL grants CONNECT and TEMP on a new database to PUBLIC). Only a database
        # this login owns is narrowed; one a DBA set up is left as the DBA made it.
        airflow_db = wanted[1]
        open_to_public = conn.execute(
            "select datdba = (select oid from pg_roles where rolname = current_user)"
            " and (has_database_privilege('public', datname, 'connect')"
            "      or has_database_privilege('public', datname, 'temporary'))"
            " from pg_database where datname = %s", (airflow_db,)).fetchone()
        if airflow_db != wanted[0] and open_to_public and open_to_public[0]:
            # two commands starting together: one of them may meet "tuple concurrently updated"; either did it
            with contextlib.suppress(psycopg.errors.InternalError_):
                conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(
                    sql.Identifier(airflow_db)))


def bootstrap(conn: psycopg.Connection) -> None:
    """Schemas, roles, grants, ledger and raw tables. Idempotent."""
    require_supported_server(conn)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_BOOTSTRAP,))
        for schema in SCHEMAS:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        conn.execute(resources.files("lowincome").joinpath("sql/ops.sql").read_text())
        for tpl in templates().values():
            conn.execute(raw_table_ddl(tpl))
        _ensure_roles(conn)


def _ensure_roles(conn: psycopg.Connection) -> None:
    can_create = conn.execute(
        "select rolsuper or rolcreaterole from pg_roles where rolname = current_user"
    ).fetchone()[0]
    for role in ROLE_GRANTS:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        if not exists:
            if not can_create:
                log.warning("cannot create role %s (no CREATEROLE); ask a DBA to create it", role)
                continue
            conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    database = conn.execute("select current_database()").fetchone()[0]
    for role, per_schema in ROLE_GRANTS.items():
        if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            continue
        r = sql.Identifier(role)
        conn.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), r))
        for schema in SCHEMAS:
            s = sql.Identifier(schema)
            # Start from nothing so that a narrowed grant really narrows.
            conn.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(s, r))
            conn.execute(sql.SQL("alter default privileges in schema {} revoke all on tables from {}").format(s, r))
            privilege = per_schema.get(schema)
            if privilege is None:
                conn.execute(sql.SQL("revoke all on schema {} from {}").format(s, r))
                continue
            schema_priv = "usage, create" if privilege == "all" else "usage"
            conn.execute(sql.SQL("grant {} on schema {} to {}").format(sql.SQL(schema_priv), s, r))
            conn.execute(sql.SQL("grant {} on all tables in schema {} to {}").format(sql.SQL(privilege), s, r))
            conn.execute(sql.SQL("alter default privileges in schema {} grant {} on tables to {}").format(
                s, sql.SQL(privilege), r))
            if privilege != "select":
                conn.execute(sql.SQL("grant usage on all sequences in schema {} to {}").format(s, r))
    # Personal data (names, ID numbers) is readable by the owner only: a role that reads raw reads every
    # column but those (column privileges; the personal columns are the contract's `personal: true`).
    for role, per_schema in ROLE_GRANTS.items():
        if per_schema.get("raw") != "select" or not conn.execute(
                "select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            continue
        for tpl in templates().values():
            if not tpl.personal_columns:
                continue
            table = sql.Identifier("raw", tpl.name)
            others = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s"
                " order by ordinal_position", (tpl.name,)) if c not in tpl.personal_columns]
            conn.execute(sql.SQL("revoke select on {} from {}").format(table, sql.Identifier(role)))
            conn.execute(sql.SQL("grant select ({}) on {} to {}").format(
                sql.SQL(", ").join(map(sql.Identifier, others)), table, sql.Identifier(role)))
    # Nobody gets raw or ops through PUBLIC.
    for schema in SCHEMAS:
        conn.execute(sql.SQL("revoke all on schema {} from public").format(sql.Identifier(schema)))
    # Temporary tables only for the roles that use them (dbt's incremental models, ad-hoc analysis, BI
    # tools that stage filters): a county login has no need of one, and a temporary relation can shadow
    # a catalog name in any function that does not pin its search_path (CIS benchmark: revoke TEMP from
    # PUBLIC, grant it where needed).
    db = sql.Identifier(database)
    conn.execute(sql.SQL("revoke temporary on database {} from public").format(db))
    for role in TEMP_ROLES:
        if conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            conn.execute(sql.SQL("grant temporary on database {} to {}").format(db, sql.Identifier(role)))


def reapply_grants(conn: psycopg.Connection) -> None:
    """After dbt replaced tables and views, grant again (dbt drops and recreates relations)."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_BOOTSTRAP,))
        _ensure_roles(conn)


def ensure_ready(cfg: Settings | None = None) -> Settings:
    """What every command does first: server up, databases there, schemas and roles in place."""
    cfg = cfg or settings()
    ensure_server(cfg)
    ensure_databases(cfg)
    with connect(cfg.warehouse_url()) as conn:
        bootstrap(conn)
    return cfg


def require(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(message)
