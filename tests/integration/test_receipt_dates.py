"""The receipt date a file carries (its modification time in landing) is what the ledger records as
``received_on``, beside the night that loaded it (``received_at``); the generator's demo files arrive
around their deadlines, a correction weeks after its first file, and supersedes it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from zoneinfo import ZoneInfo

import pytest
from fixtures.ingest_support import ingest, rows

LOCAL_TIME = ZoneInfo("Asia/Shanghai")


@pytest.mark.slow
def test_the_ledger_records_the_receipt_date_each_file_carries(empty_warehouse, tmp_path):
    from lowincome.generator import generate

    cfg = empty_warehouse
    out = tmp_path / "generated"
    # 330482 resubmits its 2013 county indicators with seed 2013 (see lowincome.generator.receipts)
    summary = generate(out, years=[2013], scale=0.002, seed=2013, counties=["330482"], fmt="csv")
    late = out / "330482_villages_2013.csv"
    future = out / "330482_households_2013.csv"
    shutil.copytree(out, cfg.landing_dir)            # keeps the files' times, as an upload that keeps them
    os.utime(cfg.landing_dir / late.name, (dt.datetime(2014, 4, 2, 9, tzinfo=LOCAL_TIME).timestamp(),) * 2)
    tomorrow = dt.datetime.now(LOCAL_TIME) + dt.timedelta(days=1)
    os.utime(cfg.landing_dir / future.name, (tomorrow.timestamp(),) * 2)   # a clock ahead: never after today
    carried = {p.name: dt.datetime.fromtimestamp(p.stat().st_mtime, LOCAL_TIME).date()
               for p in cfg.landing_dir.iterdir()}
    night = dt.datetime.now(LOCAL_TIME).date()
    ingest(cfg)
    ledger = {r["file_name"]: r for r in rows(
        cfg, "select file_name, status, received_on, (received_at at time zone 'Asia/Shanghai')::date as night "
             "from ops.submissions")}
    assert len(ledger) == len(summary.files)
    assert ledger[late.name]["received_on"] == dt.date(2014, 4, 2)
    assert ledger[future.name]["received_on"] == night
    for name, row in ledger.items():
        assert row["night"] == night, name
        if name != future.name:
            assert row["received_on"] == carried[name], name
    corrected = ledger["330482_county_indicators_2013_更正.csv"]
    first = ledger["330482_county_indicators_2013.csv"]
    assert (first["status"], corrected["status"]) == ("superseded", "loaded")
    assert corrected["received_on"] > first["received_on"]
