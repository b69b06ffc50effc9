"""Random damage to valid files, ingested for real: every file ends in the ledger, every row read is loaded
or listed as rejected, nothing crashes the run (the accounting invariant after every example)."""

from __future__ import annotations

import itertools

from fixtures.county_files import households, incomes, table, write_csv, write_xlsx
from fixtures.mutations import mutate, mutation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lowincome.accounting import violations

_names = itertools.count(1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffix=st.sampled_from([".csv", ".xlsx"]), steps=st.lists(mutation, min_size=1, max_size=3))
def test_damaged_files_are_ledgered_and_every_row_accounted_for(empty_warehouse, tmp_path_factory, suffix, steps):
    import psycopg

    from lowincome.ingest.pipeline import ingest_folder

    cfg = empty_warehouse
    originals = tmp_path_factory.mktemp("fuzz_originals")
    if suffix == ".csv":
        original = write_csv(originals / "a.csv", table(households(6), "households"), encoding="gbk")
    else:
        original = write_xlsx(originals / "a.xlsx", [("数据", table(incomes(6), "household_income"))])
    name = f"fuzz_{next(_names)}{suffix}"
    cfg.landing_dir.mkdir(parents=True, exist_ok=True)
    (cfg.landing_dir / name).write_bytes(mutate(original.read_bytes(), steps))

    outcomes = {o.file_name: o for o in ingest_folder(cfg.landing_dir, cfg)}

    assert outcomes[name].status in {"loaded", "rejected", "duplicate"}, outcomes[name]
    if outcomes[name].status == "rejected":
        assert outcomes[name].reason, "a rejected file always says why"
    assert not (cfg.landing_dir / name).exists()
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        assert violations(conn, cfg) == []
