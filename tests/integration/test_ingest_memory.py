"""Streaming: the parse of a file (read, normalise, COPY) does not grow in memory with the file.

Measured in a fresh process per file (peak RSS, ``ru_maxrss``): a file twelve times longer may not cost
more than a few MB more. Benchmarks measure the absolute figures at province scale; this guards the
design (no list of rows, no DataFrame, no whole sheet in memory) on every test run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from fixtures.county_files import households, table, write_csv, write_xlsx

PROBE = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from lowincome.config import settings
    from lowincome.ingest import read
    from lowincome.ingest.pipeline import parse_file
    from lowincome.ingest.load_tables import cli_run
    from lowincome.ingest.pipeline import connect
    from lowincome.pseudonym import make_hasher
    read.STREAM_ABOVE = int(sys.argv[2])
    cfg = settings()
    with connect(cfg) as conn, cli_run(cfg.warehouse_url()) as run:
        item = parse_file(Path(sys.argv[1]), cfg, conn, run, make_hasher("k"))
    print(json.dumps({"rows": item.rows_read, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def peak(path, stream_above: int = 128 * 1024**2) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path), str(stream_above)], env=os.environ.copy(),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.accounting_unchecked("parses only (no load): the archived files are never meant to reach the ledger")
def test_csv_parse_memory_is_flat(empty_warehouse, tmp_path):
    small = write_csv(tmp_path / "small.csv", table(households(5_000), "households"))
    large = write_csv(tmp_path / "large.csv", table(households(60_000), "households"))
    a, b = peak(small), peak(large)
    assert (a["rows"], b["rows"]) == (5_000, 60_000)
    assert b["rss_mb"] - a["rss_mb"] < 15, (a, b)


@pytest.mark.slow
@pytest.mark.accounting_unchecked("parses only (no load): the archived files are never meant to reach the ledger")
def test_streamed_workbook_parse_memory_is_flat(empty_warehouse, tmp_path):
    lines = table(households(36_000), "households")
    small = write_xlsx(tmp_path / "small.xlsx", [("s", lines[:3_001])])
    large = write_xlsx(tmp_path / "large.xlsx", [("s", lines)])
    a, b = peak(small, stream_above=0), peak(large, stream_above=0)
    assert (a["rows"], b["rows"]) == (3_000, 36_000)
    assert b["rss_mb"] - a["rss_mb"] < 15, (a, b)
