"""Warehouses of their own for the dbt tests: a fresh database per fixture, raw rows loaded directly.

The raw layer is written the way ingestion writes it (tests/dbt/raw_fixture.py), so these tests do not
wait for ingestion; every dbt run goes to the fixture's own database through lowincome.transform.run_dbt.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
import raw_fixture
from psycopg import sql


@dataclasses.dataclass
class Warehouse:
    cfg: object
    url: str

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def dbt(self, *args: str, env: dict[str, str] | None = None) -> dict:
        """Run dbt on this warehouse (with these extra environment variables); returns run_results.json."""
        from lowincome.transform import run_dbt
        from lowincome.transform.project import run_dir

        run_dbt(self.cfg, list(args), env=env)
        return json.loads((run_dir(self.cfg) / "target" / "run_results.json").read_text())

    def rows(self, relation: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
        """Every row of a relation, sorted, without the excluded columns."""
        with self.connect() as conn:
            schema, table = relation.split(".")
            columns = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " order by ordinal_position", (schema, table)).fetchall() if r[0] not in exclude]
            select = ", ".join(f'"{c}"' for c in columns)
            return conn.execute(f"select {select} from {relation} order by {select}").fetchall()

    def tables(self, schema: str) -> list[str]:
        with self.connect() as conn:
            return [f"{schema}.{r[0]}" for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1",
                (schema,)).fetchall()]


def _admin(cfg) -> psycopg.Connection:
    from lowincome.config import with_database

    return psycopg.connect(with_database(cfg.warehouse_url(), "postgres"), autocommit=True)


@pytest.fixture(scope="session")
def new_warehouse(cfg, tmp_path_factory) -> Iterator[Callable[[], Warehouse]]:
    """Factory: a brand-new bootstrapped warehouse database (dropped at the end of the session)."""
    from lowincome.config import Settings, with_database
    from lowincome.warehouse import bootstrap

    created: list[str] = []

    def _make() -> Warehouse:
        name = f"lowincome_dbt_{uuid.uuid4().hex[:10]}"
        with _admin(cfg) as admin:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        created.append(name)
        url = with_database(cfg.warehouse_url(), name)
        # a state folder of its own: profiles.yml and dbt's run folders never touch the developer's
        folder = tmp_path_factory.mktemp(name)
        wh_cfg = Settings(project_root=cfg.project_root, state_dir=folder / "state", data_dir=folder / "data",
                          external_url=url)
        with psycopg.connect(url, autocommit=True) as conn:
            bootstrap(conn)
        return Warehouse(wh_cfg, url)

    yield _make
    with _admin(cfg) as admin:
        for name in created:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def built_warehouse(new_warehouse) -> Warehouse:
    """The demo fixture (2012-2015, two counties) loaded and the whole project built once."""
    warehouse = new_warehouse()
    with warehouse.connect() as conn:
        raw_fixture.load_demo(conn)
    warehouse.results = warehouse.dbt("build")
    return warehouse
