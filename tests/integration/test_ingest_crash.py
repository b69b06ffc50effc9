"""Crashes: a SIGKILL during COPY, an error inside the load transaction, a death after the commit, retried
DAG tasks. Each time the rerun ends with exactly the tables of a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psycopg
from fixtures.county_files import households, incomes, table, write_csv
from fixtures.ingest_support import accounting_holds, ingest, rows, value

from lowincome.ingest import load, load_tables
from lowincome.ingest.load_tables import IngestRun

SCRATCH = ("select count(*) from pg_tables where schemaname = 'ops' and tablename like 'load\\_%' "
           "and tablename <> 'load_tables'")
TABLES = ("raw.households", "raw.household_income", "ops.submissions", "ops.rejected_rows", "ops.row_warnings",
          "ops.validation_results", "ops.validation_runs", "ops.load_tables")


def fingerprint(cfg) -> dict:
    """Every table the ingestion writes, by content: surrogate ids are replaced by the file they stand for
    (a failed transaction still uses up sequence numbers, so a rerun may number rows differently)."""
    out = {}
    for tpl in ("households", "household_income"):
        out[tpl] = value(cfg, f"""select md5(coalesce(string_agg((to_jsonb(t) - '_submission_id')::text || s.file_name,
                                  '|' order by s.file_name, t._source_row), ''))
                                  from raw.{tpl} t join ops.submissions s on s.id = t._submission_id""")
    out["ledger"] = rows(cfg, """select s.file_name, s.sha256, s.county_code, s.template, s.year, s.status, s.rows_read,
                                        s.rows_loaded, s.rows_rejected, s.rows_warned, s.reason_code,
                                        n.file_name as superseded_by, d.file_name as duplicate_of,
                                        s.cleared_at is not null as cleared, s.feedback_path is not null as fed
                                 from ops.submissions s left join ops.submissions n on n.id = s.superseded_by
                                 left join ops.submissions d on d.id = s.duplicate_of order by s.file_name, s.status""")
    out["rejected"] = rows(cfg, """select s.file_name, r.row_number, r.rule, r.reason, r.raw_values from ops.rejected_rows r
                                   join ops.submissions s on s.id = r.submission_id order by 1, 2""")
    out["warnings"] = value(cfg, "select count(*) from ops.row_warnings")
    out["validation"] = value(cfg, "select count(*) from ops.validation_results")
    out["load_tables"] = value(cfg, "select count(*) from ops.load_tables")
    out["scratch"] = value(cfg, SCRATCH)
    return out


def night(cfg, n: int = 6) -> None:
    """A household register and an income file with one bad row, into landing."""
    write_csv(cfg.landing_dir / "330803_households_2014.csv", table(households(n), "households"))
    inc = incomes(n)
    inc[1]["net_income"] = 1.0
    write_csv(cfg.landing_dir / "330803_household_income_2014.csv", table(inc, "household_income"))


def reset(cfg) -> None:
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        for (name,) in conn.execute("select name from ops.load_tables").fetchall():
            load_tables.drop(conn, name)
        conn.execute(f"truncate {', '.join(TABLES)} restart identity cascade")


def clean_run(cfg, n: int = 6) -> dict:
    night(cfg, n)
    ingest(cfg)
    accounting_holds(cfg)
    expected = fingerprint(cfg)
    reset(cfg)
    return expected


def wait_until_gone(cfg, application: str) -> None:
    for _ in range(200):
        if not value(cfg, "select count(*) from pg_stat_activity where datname = current_database() "
                          "and application_name = %s", (application,)):
            return
        time.sleep(0.05)
    raise AssertionError(f"{application} still connected")


def test_sigkill_during_copy_then_rerun_equals_a_clean_run(empty_warehouse):
    cfg = empty_warehouse
    n = 15_000
    expected = clean_run(cfg, n)
    night(cfg, n)
    script = textwrap.dedent("""
        from lowincome.config import settings
        from lowincome.ingest.pipeline import ingest_folder
        cfg = settings()
        ingest_folder(cfg.landing_dir, cfg)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            copying = value(cfg, "select count(*) from pg_stat_activity where datname = current_database() and "
                                 "application_name = 'lowincome-ingest' and query ilike 'copy ops.%'")
            if copying:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the ingestion finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    wait_until_gone(cfg, "lowincome-ingest")
    wait_until_gone(cfg, "lowincome-ingest-owner")
    # killed mid-file: nothing of it in raw or the ledger, the file still waits in landing
    assert value(cfg, "select count(*) from ops.submissions where template = 'household_income'") == 0
    assert value(cfg, "select count(*) from raw.household_income") == 0
    assert (cfg.landing_dir / "330803_household_income_2014.csv").exists()
    assert value(cfg, "select count(*) from ops.load_tables") == 1   # the scratch table the dead run left
    ingest(cfg)
    assert fingerprint(cfg) == expected
    accounting_holds(cfg)


def test_error_inside_the_load_transaction_leaves_nothing(empty_warehouse, monkeypatch):
    cfg = empty_warehouse
    expected = clean_run(cfg)
    night(cfg)

    def explode(conn, item):
        assert value(cfg, "select 1") == 1
        # inside the transaction the rows are written already; then the power goes
        assert conn.execute("select count(*) from ops.submissions").fetchone()[0] >= 1
        raise OSError("power failure")

    monkeypatch.setattr(load, "_before_commit", explode)
    outcomes = ingest(cfg)
    assert {o.status for o in outcomes.values()} == {"error"}
    assert value(cfg, "select count(*) from ops.submissions") == 0
    assert value(cfg, "select count(*) from raw.households") == 0
    assert sorted(p.name for p in cfg.landing_dir.iterdir()) == [
        "330803_household_income_2014.csv", "330803_households_2014.csv"]
    monkeypatch.setattr(load, "_before_commit", None)
    ingest(cfg)
    assert fingerprint(cfg) == expected


def test_death_after_the_commit_is_finished_by_the_next_run(empty_warehouse, monkeypatch):
    cfg = empty_warehouse
    expected = clean_run(cfg)
    night(cfg)
    real = load.after_commit

    def die(conn, cfg_, item, submission_id):
        raise RuntimeError("killed after the commit")

    monkeypatch.setattr(load, "after_commit", die)
    outcomes = ingest(cfg)
    assert {o.status for o in outcomes.values()} == {"error"}
    assert value(cfg, "select count(*) from ops.submissions where cleared_at is null") == 2
    monkeypatch.setattr(load, "after_commit", real)
    again = ingest(cfg)
    assert {o.status for o in again.values()} == {"loaded"}
    assert value(cfg, "select count(*) from ops.submissions where status = 'duplicate'") == 0
    assert fingerprint(cfg) == expected


def test_dag_tasks_retried_load_nothing_twice(empty_warehouse):
    from lowincome.ingest.pipeline import load_batch, parse_batch, plan_batches, split_waves, validate_batch

    cfg = empty_warehouse
    expected = clean_run(cfg)
    night(cfg)
    [batch] = plan_batches("manual__1", cfg=cfg)
    assert batch["county"] == "330803" and len(batch["files"]) == 2
    parse_batch(batch, cfg)                       # attempt 1 dies after parsing; the retry starts clean
    parsed = parse_batch(batch, cfg)
    assert value(cfg, "select count(*) from ops.load_tables") == 2
    waves = split_waves([batch], [parsed])
    assert [[i["template"] for i in b["items"]] for b in waves["registers"] + waves["dependents"]] == [
        ["households"], ["household_income"]]
    for wave in ("registers", "dependents"):
        [county] = waves[wave]
        validated = validate_batch(county, cfg)
        validated_again = validate_batch(county, cfg)  # a retried validate task stores the same outcome again
        first = load_batch(validated, cfg)
        second = load_batch(validated_again, cfg)      # a retried load task: already finalised, nothing added
        assert first == second and first["loaded"] == 1
    assert fingerprint(cfg) == expected


def test_stale_load_tables_are_dropped_at_the_next_start(empty_warehouse):
    cfg = empty_warehouse
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        load_tables.create(conn, "load_dead_cli", ["x"], IngestRun("cli-dead", owner_lock=12345))
        load_tables.create(conn, "load_old_dag", ["x"], IngestRun("scheduled__old"))
        with load_tables.cli_run(cfg.warehouse_url()) as live:
            load_tables.create(conn, "load_live_cli", ["x"], live)
            # a CLI run drops what dead CLI runs left, keeps a DAG run's young tables and a live run's
            dropped = load_tables.drop_stale(conn, IngestRun("cli-now", owner_lock=1))
            assert dropped == ["load_dead_cli"]
            # a DAG run (one at a time) drops the other DAG runs' tables, never a live CLI run's
            assert load_tables.drop_stale(conn, IngestRun("scheduled__new")) == ["load_old_dag"]
        wait_until_gone(cfg, "lowincome-ingest-owner")
        assert load_tables.drop_stale(conn, IngestRun("scheduled__new")) == ["load_live_cli"]
        assert conn.execute(SCRATCH).fetchone()[0] == 0


def test_load_tables_are_unlogged_and_left_alone_by_autovacuum(empty_warehouse):
    """A DROP that finds autovacuum on the table waits deadlock_timeout (1 s) before autovacuum yields."""
    cfg = empty_warehouse
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        load_tables.create(conn, "load_options", ["x"], IngestRun("scheduled__options"))
        found = conn.execute(
            """select c.relpersistence, c.reloptions, t.reloptions from pg_class c
               left join pg_class t on t.oid = c.reltoastrelid where c.oid = 'ops.load_options'::regclass""").fetchone()
        assert found == ("u", ["autovacuum_enabled=false"], ["autovacuum_enabled=false"])
        load_tables.drop(conn, "load_options")



def test_validation_failing_while_the_rows_are_written_leaves_nothing(empty_warehouse, monkeypatch):
    """The CLI validates a file while its load transaction already writes the rows into raw: when
    validation fails, the write is cancelled on the server and the transaction leaves nothing."""
    from lowincome.ingest import pipeline  # the name the CLI's loop calls

    cfg = empty_warehouse
    expected = clean_run(cfg)
    night(cfg)
    real_load, real_validate = load._load_castable_rows, pipeline.validate_item
    seen: list[BaseException] = []

    def slow_load(conn, item, submission_id):
        if item.template == "household_income":
            try:   # stands for a long write: the validation below fails while it runs
                conn.execute("select pg_sleep(600)")
            except BaseException as err:
                seen.append(err)
                raise
        return real_load(conn, item, submission_id)

    def failing_validate(cfg_, item):
        if item.template != "household_income":
            return real_validate(cfg_, item)
        for _ in range(400):
            if value(cfg, "select count(*) from pg_stat_activity where query = 'select pg_sleep(600)'"):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the write never started")
        raise RuntimeError("validation rule x could not run")

    monkeypatch.setattr(load, "_load_castable_rows", slow_load)
    monkeypatch.setattr(pipeline, "validate_item", failing_validate)
    outcomes = ingest(cfg)
    assert outcomes["330803_household_income_2014.csv"].status == "error"
    assert outcomes["330803_households_2014.csv"].status == "loaded"
    assert [type(err) for err in seen] == [psycopg.errors.QueryCanceled]   # cancelled, not waited for
    assert value(cfg, "select count(*) from ops.submissions where template = 'household_income'") == 0
    assert value(cfg, "select count(*) from raw.household_income") == 0
    assert (cfg.landing_dir / "330803_household_income_2014.csv").exists()
    monkeypatch.setattr(load, "_load_castable_rows", real_load)
    monkeypatch.setattr(pipeline, "validate_item", real_validate)
    ingest(cfg)
    assert fingerprint(cfg) == expected
    accounting_holds(cfg)
