"""What `make demo` prints at the end: where every county stands, and where the outputs are."""

from __future__ import annotations

import datetime as dt

from lowincome.config import Settings
from lowincome.ingest.account import place_names
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


def warehouse_now(cfg: Settings) -> dt.datetime:
    """The warehouse's clock: a night's files are those the ledger received after it (received_at)."""
    with connect(cfg.warehouse_url()) as conn:
        return conn.execute("select now()").fetchone()[0]


def night_counts(conn, since: dt.datetime) -> dict[str, dict[str, int]]:
    """county_code (or '-' when the file named none) -> status -> files, of the files received since."""
    counts: dict[str, dict[str, int]] = {}
    for county, status, files in conn.execute(
            "select coalesce(county_code, '-'), status, count(*) from ops.submissions where received_at >= %s "
            "group by 1, 2 order by 1, 2", (since,)).fetchall():
        counts.setdefault(county, {})[status] = files
    return counts


def county_lines(counts: dict[str, dict[str, int]]) -> list[str]:
    """Per county: the night's files loaded, rejected and otherwise (duplicates, superseded)."""
    if not counts:
        return ["  no files this night"]
    names = place_names()
    lines = [f"  {'county':<18} {'loaded':>6} {'rejected':>8} {'other':>6}"]
    for county, by_status in counts.items():
        other = sum(n for s, n in by_status.items() if s not in ("loaded", "rejected"))
        label = f"{county} {names.get(county, '')}".rstrip()
        lines.append(f"  {_pad(label, 18)} {by_status.get('loaded', 0):>6} {by_status.get('rejected', 0):>8} "
                     f"{other:>6}")
    return lines


def _pad(text: str, width: int) -> str:
    """Padded to ``width`` terminal columns (a CJK character takes two)."""
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(0, width - shown)


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
    labels = target_labels(conn)
    lines = [f"  {'target':<7} {'met':>5} {'not met':>8} {'no verdict':>11}   year  label"]
    lines += [f"  {target:<7} {met:>5} {not_met:>8} {unknown:>11}   {year}  {labels.get(target, '')}".rstrip()
              for target, met, not_met, unknown, year in rows]
    return lines


def target_labels(conn) -> dict[str, str]:
    """target id -> its short label, Chinese and English (marts.plan_targets; one per target, its first
    criterion's)."""
    if not _exists(conn, "marts.plan_targets"):
        return {}
    rows = conn.execute("select distinct on (target_id) target_id, label_zh, label_en from marts.plan_targets "
                        "order by target_id, criterion").fetchall()
    return {target: " / ".join(x for x in (zh, en) if x) for target, zh, en in rows}


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
