"""Who may read the published marts, and which rows.

``lowincome_bi`` and ``lowincome_analyst`` read every row of ``marts`` (their schema grants are kept by
:func:`lowincome.warehouse.reapply_grants`). A county's account reads only its own county's rows: each
county has a group role ``lowincome_county_<county_code>`` (NOLOGIN, member of ``lowincome_county``),
and every mart with county rows carries a row-level security policy that lets a member of such a role
see the rows whose county is one of its roles' counties, plus the rows of the city, the 29 and the 12
counties and the province (public anyway, so that a county can compare itself with the averages it
belongs to), and no other county's rows. A person gets that view by being granted the county's role:

    create role qujiang_stats login password '...';
    grant lowincome_county_330803 to qujiang_stats;      -- 衢江区

dbt rebuilds most marts on every publication, which drops their policies and grants; so the publish
step calls :func:`refresh_grants` after every dbt run. County roles get no default privileges: until the
policy is back on a rebuilt table they cannot read it at all (fail closed).
"""

from __future__ import annotations

import logging
import re

import psycopg
from psycopg import sql

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.warehouse import LOCK_BOOTSTRAP, connect, reapply_grants

log = logging.getLogger(__name__)

MARTS = "marts"
COUNTY_GROUP_ROLE = "lowincome_county"
COUNTY_ROLE_PREFIX = "lowincome_county_"
# Roles that read every row of the marts.
FULL_READERS = ("lowincome_bi", "lowincome_analyst", "lowincome_transformer")
POLICY = "lowincome_county_rows"
_COUNTY_CODE = re.compile(r"^\d{6}$")

# Functions that decide access run inside every row-level policy, with the caller's search_path. Every
# name in them is schema-qualified AND the search_path is pinned, with pg_temp last: otherwise a login
# could create a temporary table named pg_roles (a session's temp schema is searched before pg_catalog
# for relations) and make itself a reader of every row.
PINNED_SEARCH_PATH = "set search_path = pg_catalog, pg_temp"

_FUNCTIONS = f"""
create or replace function {MARTS}.reads_all_rows() returns boolean
language sql stable {PINNED_SEARCH_PATH} as $$
    select exists (
        select 1 from pg_catalog.pg_roles as r
        where r.rolname in ({", ".join(f"'{role}'" for role in FULL_READERS)})
            and pg_catalog.pg_has_role(current_user, r.oid, 'member')
    ) or (select r.rolsuper from pg_catalog.pg_roles as r where r.rolname = current_user)
$$;
comment on function {MARTS}.reads_all_rows() is
    'True for the BI, analyst and transformer roles (and superusers): they read every row of the marts.';

create or replace function {MARTS}.readable_counties() returns text[]
language sql stable {PINNED_SEARCH_PATH} as $$
    select coalesce(pg_catalog.array_agg(pg_catalog.substr(r.rolname, {len(COUNTY_ROLE_PREFIX) + 1})),
                    '{{}}'::pg_catalog.text[])
    from pg_catalog.pg_roles as r
    where r.rolname operator(pg_catalog.~) '^{COUNTY_ROLE_PREFIX}[0-9]{{6}}$'
        and pg_catalog.pg_has_role(current_user, r.oid, 'member')
$$;
comment on function {MARTS}.readable_counties() is
    'The county codes whose lowincome_county_<code> role the current user holds (row-level security).';
"""


# The column comments dbt persists, as a view any client reads like a table. psqlODBC's SQLColumns sends an
# empty REMARKS for every column (its info.c never reads pg_description), so a BI tool on ODBC shows no
# descriptions; this view carries them. Built on information_schema, it lists only what the reader may read.
DICTIONARY = "data_dictionary"
_DICTIONARY_VIEW = f"""
create or replace view {MARTS}.{DICTIONARY} with (security_invoker = true) as
select c.table_name::text as table_name,
       null::text as column_name,
       0 as ordinal_position,
       null::text as data_type,
       pg_catalog.obj_description(pg_catalog.to_regclass(pg_catalog.quote_ident(c.table_schema)
           || '.' || pg_catalog.quote_ident(c.table_name)), 'pg_class') as description
from information_schema.tables as c
where c.table_schema = '{MARTS}'
union all
select c.table_name::text, c.column_name::text, c.ordinal_position::integer, c.data_type::text,
       pg_catalog.col_description(pg_catalog.to_regclass(pg_catalog.quote_ident(c.table_schema)
           || '.' || pg_catalog.quote_ident(c.table_name)), c.ordinal_position::integer)
from information_schema.columns as c
where c.table_schema = '{MARTS}';
comment on view {MARTS}.{DICTIONARY} is
    'What each mart and each of its columns means (the descriptions of the dbt docs): one row per table '
    '(column_name null) and per column, for every mart the reader may read. For BI tools whose driver shows '
    'no column comments (psqlODBC).';
comment on column {MARTS}.{DICTIONARY}.table_name is 'The mart (table or view in schema marts).';
comment on column {MARTS}.{DICTIONARY}.column_name is 'The column; null on the row that describes the table itself.';
comment on column {MARTS}.{DICTIONARY}.ordinal_position is 'Position of the column in the table (0: the table).';
comment on column {MARTS}.{DICTIONARY}.data_type is 'SQL type of the column (information_schema.columns.data_type).';
comment on column {MARTS}.{DICTIONARY}.description is 'What it means (the dbt description, stored as a comment).';
"""


def refresh_grants(cfg: Settings) -> None:
    """After dbt rebuilt the marts: schema grants again, county roles, row-level security."""
    with connect(cfg.warehouse_url()) as conn:
        reapply_grants(conn)
        apply_row_security(conn)


def county_role(county_code: str) -> str:
    if not _COUNTY_CODE.match(county_code):
        raise UserError(f"{county_code!r} is not a 6-digit county code; use the code of a county in scope")
    return COUNTY_ROLE_PREFIX + county_code


def apply_row_security(conn: psycopg.Connection) -> list[str]:
    """Policies on every mart with county rows; returns the tables it secured."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_BOOTSTRAP,))
        can_create_roles = _ensure_county_roles(conn)
        conn.execute(_FUNCTIONS)
        conn.execute(_DICTIONARY_VIEW)
        if can_create_roles:
            conn.execute(sql.SQL("grant select on {} to {}").format(
                sql.Identifier(MARTS, DICTIONARY), sql.Identifier(COUNTY_GROUP_ROLE)))
        secured = []
        for table, columns in _marts_tables(conn).items():
            ident = sql.Identifier(MARTS, table)
            predicate = _row_predicate(columns)
            if predicate is not None:
                conn.execute(sql.SQL("alter table {} enable row level security").format(ident))
                conn.execute(sql.SQL("drop policy if exists {} on {}").format(sql.Identifier(POLICY), ident))
                conn.execute(sql.SQL("create policy {} on {} for select using ({})").format(
                    sql.Identifier(POLICY), ident, predicate))
                secured.append(table)
            if can_create_roles:
                conn.execute(sql.SQL("grant select on {} to {}").format(ident, sql.Identifier(COUNTY_GROUP_ROLE)))
        if can_create_roles:
            database = conn.execute("select current_database()").fetchone()[0]
            conn.execute(sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(database), sql.Identifier(COUNTY_GROUP_ROLE)))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(
                sql.Identifier(MARTS), sql.Identifier(COUNTY_GROUP_ROLE)))
    return secured


def grant_county_access(conn: psycopg.Connection, county_code: str, login: str) -> None:
    """Let an existing login role read its county's rows of the marts (and nothing else)."""
    role = county_role(county_code)
    if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
        raise UserError(f"role {role} does not exist; run the publish step (it creates a role per county "
                        "in warehouse.dim_county) or check the county code")
    conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(login)))


def _row_predicate(columns: set[str]) -> sql.Composable | None:
    readers = sql.SQL("(select {}.reads_all_rows())").format(sql.Identifier(MARTS))
    counties = sql.SQL("(select {}.readable_counties())::text[]").format(sql.Identifier(MARTS))
    if {"geography_level", "geography_code"} <= columns:
        # every level above the county (city, group29, group12, province) is published to everyone anyway
        return sql.SQL("{} or geography_level <> 'county' or geography_code = any ({})").format(readers, counties)
    if "county_code" in columns:
        return sql.SQL("{} or county_code = any ({})").format(readers, counties)
    return None


def _marts_tables(conn: psycopg.Connection) -> dict[str, set[str]]:
    rows = conn.execute(
        """
        select c.relname, a.attname
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = %s and c.relkind in ('r', 'p')
        """,
        (MARTS,),
    ).fetchall()
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


def _ensure_county_roles(conn: psycopg.Connection) -> bool:
    """The group role and one role per county in scope; False when this login may not create roles."""
    can_create = conn.execute(
        "select rolsuper or rolcreaterole from pg_roles where rolname = current_user").fetchone()[0]
    if not can_create:
        if not conn.execute("select 1 from pg_roles where rolname = %s", (COUNTY_GROUP_ROLE,)).fetchone():
            log.warning("cannot create role %s (no CREATEROLE): county accounts will not be able to read "
                        "the marts; ask a DBA to run the publish step once", COUNTY_GROUP_ROLE)
            return False
        return True
    existing = {name for (name,) in conn.execute(
        "select rolname from pg_roles where rolname like %s", (COUNTY_GROUP_ROLE + "%",)).fetchall()}
    if COUNTY_GROUP_ROLE not in existing:
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(COUNTY_GROUP_ROLE)))
    for code in _county_codes(conn):
        role = county_role(code)
        if role not in existing:
            conn.execute(sql.SQL("create role {} nologin in role {}").format(
                sql.Identifier(role), sql.Identifier(COUNTY_GROUP_ROLE)))
    return True


def _county_codes(conn: psycopg.Connection) -> list[str]:
    if not conn.execute("select to_regclass('warehouse.dim_county') is not null").fetchone()[0]:
        return []
    return [code for (code,) in conn.execute("select county_code from warehouse.dim_county order by 1")]
