"""What `make demo` prints at the end: where every county stands, and where the outputs are."""

from __future__ import annotations

from lowincome.config import Settings
from lowincome.warehouse import connect


def _exists(conn, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def ledger_lines(conn) -> list[str]:
    rows = conn.execute(
        """
        select status, count(*), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0)
        from ops.submissions group by status order by status
        """
    ).fetchall()
    if not rows:
        return ["  no submissions received yet"]
    return [f"  {status:<11} {files:>5} files  {loaded:>9} rows loaded  {rejected:>6} rows rejected"
            for status, files, loaded, rejected in rows]


def attainment_lines(conn) -> list[str]:
    if not _exists(conn, "marts.target_attainment"):
        return ["  (marts not built yet)"]
    rows = conn.execute(
        """
        with latest as (select max(year) as year from marts.target_attainment where geography_level = 'county')
        select t.target_id, count(*) filter (where t.met), count(*) filter (where t.met = false),
               count(*) filter (where t.met is null), max(t.year)
        from marts.target_attainment t join latest l on t.year = l.year
        where t.geography_level = 'county' and t.obs_status <> 'M'
        group by t.target_id order by t.target_id
        """
    ).fetchall()
    lines = [f"  {'target':<7} {'met':>5} {'not met':>8} {'no verdict':>11}   year"]
    lines += [f"  {target:<7} {met:>5} {not_met:>8} {unknown:>11}   {year}"
              for target, met, not_met, unknown, year in rows]
    return lines


def print_summary(cfg: Settings) -> None:
    with connect(cfg.warehouse_url()) as conn:
        print("\nSubmissions (ops.submissions):")
        print("\n".join(ledger_lines(conn)))
        print("\nWhere the counties stand, latest year (marts.target_attainment):")
        print("\n".join(attainment_lines(conn)))
    print("\nOutputs:")
    for label, path in [
        ("monitoring report", cfg.reports_dir / "index.html"),
        ("validation docs  ", cfg.docs_dir / "validation" / "index.html"),
        ("dbt docs         ", cfg.docs_dir / "dbt" / "index.html"),
        ("county feedback  ", cfg.feedback_dir),
    ]:
        mark = "" if path.exists() else "  (not produced)"
        print(f"  {label} {path}{mark}")
