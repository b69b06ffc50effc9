"""Fixtures for the validation tests: real load tables in the test warehouse, and a seeded warehouse.

A load table is what ingestion hands to validation: an UNLOGGED table ``ops."load_<token>"`` of text
columns plus ``_source_row``. Tests build them here from rows of strings (None = blank cell).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from quality_rows import create_load_table, good_row, seed_submission


@pytest.fixture
def load_table(cfg) -> Iterator[Callable[..., str]]:
    """Factory for load tables in the session warehouse; dropped after the test."""
    made: list[str] = []
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        def _make(template_name: str, rows: list[dict[str, str | None]], columns: list[str] | None = None) -> str:
            made.append(create_load_table(conn, template_name, rows, columns))
            return made[-1]

        yield _make
        for name in made:
            conn.execute(f"drop table if exists {name}")



@pytest.fixture
def warehouse(empty_warehouse) -> Iterator[tuple]:
    """A fresh warehouse with the county's 2014 register (households H0001-H0005) and the 2014 benchmark."""
    with psycopg.connect(empty_warehouse.warehouse_url(), autocommit=True) as conn:
        seed_submission(conn, "households", [good_row("households", n) for n in range(1, 6)])
        seed_submission(conn, "province_indicators", [good_row("province_indicators")])
        yield empty_warehouse, conn
