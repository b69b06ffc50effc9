"""Fixtures of the marts tests (see marts_harness): a published copy of the hand-made fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import marts_harness  # noqa: E402


@pytest.fixture(scope="session")
def marts_scratch(tmp_path_factory, request) -> Path:
    request.addfinalizer(marts_harness.drop_all)
    return tmp_path_factory.mktemp("marts")


@pytest.fixture(scope="session")
def published(cfg, marts_scratch):
    """The fixture warehouse, published on 2018-02-15 and 2018-05-10, grants and row security applied."""
    return marts_harness.published_warehouse(cfg, marts_scratch)


@pytest.fixture
def fresh_warehouse(cfg, marts_scratch):
    """A new copy of the built (empty) warehouse, for tests that publish on their own."""
    return marts_harness.new_warehouse(cfg, marts_scratch)
