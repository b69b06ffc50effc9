"""The loader refreshes a raw table's planner statistics when a file changed a good share of it, not after
every file (an ANALYZE of a province-year table costs ~0.3 s, and a night brings ~500 files)."""

from __future__ import annotations

import psycopg
from fixtures.county_files import households, table, write_csv
from fixtures.ingest_support import accounting_holds, ingest, value

from lowincome.ingest.load import ANALYZE_AFTER, STALE_SHARE, planner_columns

# What the last ANALYZE counted. pg_class is written in ANALYZE's own transaction, so this is exact the
# moment the ingestion returns; pg_stat_user_tables.analyze_count is not (a backend reports its counters
# when it goes idle or exits, which can come after the next query).
ANALYSED = "select reltuples::bigint from pg_class where oid = 'raw.households'::regclass"


def test_statistics_are_refreshed_when_a_share_of_the_table_changed(empty_warehouse):
    cfg = empty_warehouse
    land = cfg.landing_dir
    big, small = 15_000, 1_200
    assert small >= ANALYZE_AFTER and small < STALE_SHARE * big <= 2 * small
    # Autovacuum also sets relpages and reltuples (a VACUUM after an insert), at a moment of its own
    # choosing: it made this test fail twice on a slow machine. What is tested here is the loader alone.
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        conn.execute("alter table raw.households set (autovacuum_enabled = false)")
    write_csv(land / "big.csv", table(households(big, county="330803"), "households"))
    assert value(cfg, ANALYSED) == -1           # never analysed: the planner believes it empty
    assert ingest(cfg)["big.csv"].rows_loaded == big
    assert value(cfg, ANALYSED) == big          # analysed
    # only the columns the ingestion's lookups use (the rest is autovacuum's, turned off here)
    assert value(cfg, "select array_agg(attname::text order by attname) from pg_stats "
                      "where schemaname = 'raw' and tablename = 'households'") == sorted(planner_columns("households"))
    write_csv(land / "small1.csv", table(households(small, county="330881"), "households"))
    assert ingest(cfg)["small1.csv"].rows_loaded == small
    assert value(cfg, ANALYSED) == big          # grown by 1,200 rows on 15,000: still fresh
    write_csv(land / "small2.csv", table(households(small, county="330327"), "households"))
    assert ingest(cfg)["small2.csv"].rows_loaded == small
    assert value(cfg, ANALYSED) == big + 2 * small   # grown by 2,400 since: stale, analysed again
    write_csv(land / "tiny.csv", table(households(ANALYZE_AFTER - 1, county="330824"), "households"))
    assert ingest(cfg)["tiny.csv"].rows_loaded == ANALYZE_AFTER - 1
    assert value(cfg, ANALYSED) == big + 2 * small
    accounting_holds(cfg)


def test_a_load_table_is_analysed_on_its_row_count_and_join_keys(empty_warehouse):
    """Validation's cross-file rules join the load table to raw by these keys; the other columns are only
    scanned, so the load's ANALYZE leaves them out."""
    from lowincome.ingest import load_tables

    cfg = empty_warehouse
    columns = ["county_code", "year", "household_key", "village_name", "household_size"]
    name = load_tables.new_name()
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn, load_tables.cli_run(cfg.warehouse_url()) as run:
        load_tables.create(conn, name, columns, run)
        try:
            load_tables.copy_rows(conn, name, columns, ((n, "330803", "2014", f"k{n}", "某村", "3")
                                                        for n in range(2, 1_502)))
            assert conn.execute("select reltuples from pg_class where oid = %s::regclass",
                                (f"ops.{name}",)).fetchone()[0] == 1_500
            analysed = conn.execute("select array_agg(attname::text order by attname) from pg_stats "
                                    "where schemaname = 'ops' and tablename = %s", (name,)).fetchone()[0]
            assert analysed == ["_source_row", "county_code", "household_key", "year"]
        finally:
            load_tables.drop(conn, name)
