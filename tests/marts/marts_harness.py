"""Warehouses for the marts tests: the dbt project's upstream models built once into a template
database, then one copy per scenario with the hand-made fixture loaded and the marts published.

Shared by tests/marts and tests/browser (plain functions; each conftest wraps them in fixtures).
The databases live on the session's server and are dropped when the pytest session ends.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from pathlib import Path

import fixture_data
import psycopg
from psycopg import sql

from lowincome.config import Settings, with_database
from lowincome.transform.project import PUBLICATION_SELECTOR

_TEMPLATE: dict[str, str] = {}
_CREATED: list[tuple[str, str]] = []
_PUBLISHED: dict[str, Settings] = {}

FIRST_PUBLICATION = datetime.fromisoformat("2018-02-15T12:00:00+08:00")   # 2017 figures still provisional
SECOND_PUBLICATION = datetime.fromisoformat("2018-05-10T12:00:00+08:00")  # every 2017 deadline passed


def _admin(cfg: Settings) -> psycopg.Connection:
    return psycopg.connect(with_database(cfg.warehouse_url(), "postgres"), autocommit=True)


def _settings_for(cfg: Settings, database: str, data_dir: Path) -> Settings:
    return dataclasses.replace(cfg, external_url=with_database(cfg.warehouse_url(), database), data_dir=data_dir)


def template_database(cfg: Settings, scratch: Path) -> str:
    """Seeds and every model but the marts, built once per session on empty raw tables."""
    from lowincome.transform import run_dbt
    from lowincome.warehouse import ensure_ready

    base = cfg.warehouse_url()
    if base not in _TEMPLATE:
        name = f"lowincome_marts_tpl_{uuid.uuid4().hex[:8]}"
        with _admin(cfg) as admin:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        _CREATED.append((base, name))
        built = _settings_for(cfg, name, scratch / name)
        ensure_ready(built)
        run_dbt(built, ["seed"])
        run_dbt(built, ["run", "--exclude", PUBLICATION_SELECTOR])
        _TEMPLATE[base] = name
    return _TEMPLATE[base]


def new_warehouse(cfg: Settings, scratch: Path) -> Settings:
    """A copy of the template: upstream tables in place (empty), nothing published yet."""
    template = template_database(cfg, scratch)
    name = f"lowincome_marts_{uuid.uuid4().hex[:8]}"
    with _admin(cfg) as admin:
        admin.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template)))
    _CREATED.append((cfg.warehouse_url(), name))
    return _settings_for(cfg, name, scratch / name)


def load_fixture(warehouse: Settings) -> None:
    with psycopg.connect(warehouse.warehouse_url(), autocommit=True) as conn:
        fixture_data.load(conn)
        fixture_data.load_submissions(conn)


def published_warehouse(cfg: Settings, scratch: Path) -> Settings:
    """The fixture published twice (Feb and May 2018) with grants and row security: shared, read-only."""
    from lowincome.publish import refresh_grants, refresh_marts

    base = cfg.warehouse_url()
    if base not in _PUBLISHED:
        warehouse = new_warehouse(cfg, scratch)
        load_fixture(warehouse)
        refresh_marts(warehouse, FIRST_PUBLICATION)
        refresh_marts(warehouse, SECOND_PUBLICATION)
        refresh_grants(warehouse)
        _PUBLISHED[base] = warehouse
    return _PUBLISHED[base]


def drop_all() -> None:
    for base, name in reversed(_CREATED):
        try:
            with psycopg.connect(with_database(base, "postgres"), autocommit=True) as admin:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        except psycopg.Error:
            pass
    _CREATED.clear()
    _TEMPLATE.clear()
    _PUBLISHED.clear()


def query(warehouse: Settings, statement: str, params: tuple = ()) -> list[dict]:
    from psycopg.rows import dict_row

    with psycopg.connect(warehouse.warehouse_url()) as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(statement, params).fetchall()
