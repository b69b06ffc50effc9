"""The report in a real headless Chromium (Debian's package; CI installs it).

Builds the same published fixture warehouse as tests/marts (its harness is shared).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "marts"))
sys.path.insert(0, str(Path(__file__).parent))

import marts_harness  # noqa: E402


@pytest.fixture(scope="session")
def published_report(cfg, tmp_path_factory, request) -> Path:
    from lowincome.publish import write_report

    request.addfinalizer(marts_harness.drop_all)
    warehouse = marts_harness.published_warehouse(cfg, tmp_path_factory.mktemp("browser"))
    return write_report(warehouse)
