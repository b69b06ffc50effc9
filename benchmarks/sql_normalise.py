"""A prototype measured against today's parser (issue 26.5): PostgreSQL parses and normalises a CSV.

Today a CSV's rows are parsed by Python's ``csv`` module, normalised cell by cell (trim, full-width →
half-width, thousands separators, an ID number's trailing ``x``), pseudonymised with ``hmac`` and sent to
the load table by binary ``COPY`` (:class:`lowincome.ingest.normalise.RowStream`, a chunk of rows at a time,
column by column).

Here Python only finds the header (the same :func:`~lowincome.ingest.read.open_table` the ingestion
uses, which also picks encoding and delimiter) and the unit row under it; the file's bytes after the
header go unparsed to the server, ``COPY … (format csv)`` into a temporary table of text cells, and one
``INSERT … SELECT`` normalises set-based into a load table of the same shape as the ingestion's:

* text: ``nullif(btrim(translate(cell, full-width, half-width), <every character str.strip() strips>), '')``
* numbers: thousands separators dropped where the whole value is ``1,234,567.89``-shaped
  (``regexp_replace``), as :func:`lowincome.ingest.normalise.plain_number`;
* GB 11643 ID numbers: a trailing ``x`` upper-cased;
* blank rows (every template cell blank) and total / signature rows (合计, 填表人 …, judged on the first
  non-blank cell as :mod:`lowincome.ingest.normalise` does) left out;
* pseudonyms: HMAC-SHA256 of the same message (parts joined by U+001F) on the server, the keyed blocks
  bind parameters (never in the SQL text; :func:`keyed_pads`).

:func:`sql_rows` returns None where the design does not reach yet (then the file goes the Python way):
a workbook; a column that needs a date or a 万元 scale; UTF-16; a file that ``COPY`` cannot take as CSV
(a NUL byte, a line of another width, a lone carriage return); a quoted cell spanning lines (the row
numbers would no longer be line numbers). ``tests/integration/test_sql_normalise.py`` proves the rows equal
to the Python normaliser's on generated files with the ``--messy`` faults.

Section ``sqlnormalise`` (``python -m benchmarks --only sqlnormalise``): on the ``ingest`` section's
register, the stage this replaces (file → normalised rows in a load table) timed both ways (the Python way has
no speed-up of its own: no switch changes it), beside the ``COPY`` limit of the ``ingest`` section, in the same run;
the rows of the two ways are compared (counts, and ``except all`` both ways).
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from benchmarks.harness import Bench, Result, median

SECTION = "sqlnormalise"
MEASURE = "CSV parsed and normalised by PostgreSQL (prototype)"
RUNS = 3

# What str.strip() removes (str.isspace), and the full-width forms normalise.FULL_WIDTH maps.
WHITESPACE = "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())
FW_FROM = "".join(map(chr, range(0xFF01, 0xFF5F))) + "\u3000"
FW_TO = "".join(chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)) + " "
HAS_FULL_WIDTH = "[\uff01-\uff5e\u3000]"
THOUSANDS = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"
NOT_DATA = (r"^(全县|全市|全省|本页|本表|总)?(合计|总计|小计)|^(填表人|制表人|填报人|审核人|负责人|单位负责人|"
            r"统计负责人|填报单位|填报日期|制表日期|联系电话|注[:：])")
NOT_DATA_FIRST = "全本总合小填制审负单统联注 \u3000"
SEPARATOR = "\x1f"
PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "gb18030": "GB18030"}
_CHUNK = 1 << 20


def _ingest():
    """The ingestion's names this prototype uses, in one place."""
    from lowincome.ingest import normalise as cells
    from lowincome.ingest.normalise import RowStream
    from lowincome.ingest.read import open_table
    from lowincome.ingest.recognise import column_units_from_row, is_unit_row
    from lowincome.pseudonym import make_hasher

    return cells, column_units_from_row, is_unit_row, RowStream, open_table, make_hasher


@dataclass
class Loaded:
    """What one way put into its load table, and the tallies the ingestion keeps of a file."""

    table: str
    columns: list[str]
    rows_read: int
    blank: int = 0
    not_data: int = 0
    unit_rows: int = 0
    county: str | None = None
    year: int | None = None
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def tallies(self) -> tuple:
        return (self.columns, self.rows_read, self.blank, self.not_data, self.unit_rows, self.county, self.year)


def _ident(table: str) -> sql.Composable:
    schema, _, name = table.rpartition(".")
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)


def _create_load_table(conn: psycopg.Connection, table: str, columns: list[str]) -> None:
    cols = [sql.SQL("_source_row integer not null")] + [sql.SQL("{} text").format(sql.Identifier(c)) for c in columns]
    conn.execute(sql.SQL("drop table if exists {}").format(_ident(table)))
    conn.execute(sql.SQL("create unlogged table {} ({}) with (autovacuum_enabled = false)").format(
        _ident(table), sql.SQL(", ").join(cols)))


# --- the Python way (today's) ---------------------------------------------------------------------

def python_rows(conn: psycopg.Connection, path: Path, key: str, table: str) -> Loaded:
    """Today's stage: RowStream (parse, normalise, pseudonyms) and a binary COPY into ``table``."""
    _cells, _cu, _iu, row_stream, open_table, make_hasher = _ingest()
    started = time.perf_counter()
    source = open_table(path)
    try:
        stream = row_stream(source, make_hasher(key))
        columns = stream.load_columns
        _create_load_table(conn, table, columns)
        statement = sql.SQL("copy {} ({}) from stdin (format binary)").format(
            _ident(table), sql.SQL(", ").join(map(sql.Identifier, ["_source_row", *columns])))
        with conn.transaction(), conn.cursor() as cur, cur.copy(statement) as copy:
            copy.set_types(["int4"] + ["text"] * len(columns))
            write = copy.write_row
            for row in stream.rows():
                write(row)
        tally = stream.tally
    finally:
        source.close()
    seconds = time.perf_counter() - started
    return Loaded(table, columns, tally.rows_read, tally.blank, tally.not_data, tally.unit_rows,
                  tally.most_common_county(), tally.most_common_year(), seconds)


# --- the SQL way (the prototype) ------------------------------------------------------------------

def _text(cell: sql.Composable) -> sql.Composable:
    # translate() only a cell that holds a full-width character: it compares each character of a
    # multibyte text with every one of FW_FROM (~10x the cost of the regex that finds the rare cell)
    return sql.SQL("nullif(btrim(case when {c} ~ {has} then translate({c}, {src}, {dst}) else {c} end, "
                   "{ws}), '')").format(c=cell, has=sql.Literal(HAS_FULL_WIDTH), src=sql.Placeholder("fw_from"),
                                        dst=sql.Placeholder("fw_to"), ws=sql.Placeholder("ws"))


def _unit_row(table: Any, cells_mod: Any, is_unit_row: Any, column_units_from_row: Any,
              positions: list[int]) -> int | None:
    """The unit row under the header, as the parser finds it: the first row below the header with a
    non-blank template cell, if it only states units (its per-column units applied to the match)."""
    for number, cells in table.head[table.match.data_start:]:
        values = [cells_mod.text_of(cells[p]) if p < len(cells) else None for p in positions]
        if not any(values):
            continue
        if is_unit_row(cells):
            column_units_from_row(cells, table.match)
            return number
        return None
    return None


def _header_end(data: bytes, lines: int) -> int | None:
    """Byte offset where line ``lines + 1`` starts (None when the file has fewer lines)."""
    offset = 0
    for _ in range(lines):
        at = data.find(b"\n", offset)
        if at == -1:
            return None
        offset = at + 1
    return offset


def sql_rows(conn: psycopg.Connection, path: Path, key: str, table: str) -> Loaded | None:
    """The prototype: the file's text COPYed into a text table, normalised into ``table`` in SQL.

    None when the design does not reach this file (see the module's docstring); nothing is left then.
    """
    cells_mod, column_units_from_row, is_unit_row, _rs, open_table, _mh = _ingest()
    started = time.perf_counter()
    source = open_table(path)
    try:
        if source.kind != "csv" or source.encoding not in PG_ENCODINGS:
            return None
        match, tpl = source.match, source.match.template
        columns = [name for name in tpl.column_names if name in match.columns]
        positions = [match.columns[name] for name in columns]
        unit_row = _unit_row(source, cells_mod, is_unit_row, column_units_from_row, positions)
        kinds = []
        for name in columns:
            col = tpl.column(name)
            if match.scale(name) is not None or col.type == "date":
                return None
            kinds.append("id" if col.check == "gb11643" else
                         "number" if col.type in ("money", "number", "int", "year") else "text")
        head = source.head
        data_start = match.data_start
        width = max((len(cells) for _n, cells in head), default=0)
        first_line = head[data_start][0] if len(head) > data_start else head[-1][0] + 1
        delimiter, encoding = source.delimiter, PG_ENCODINGS[source.encoding]
    finally:
        source.close()
    pseudonyms = [(k, [columns.index(p) for p in parts]) for k, parts in tpl.pseudonyms.items()
                  if all(p in columns for p in parts)]
    load_columns = columns + [k for k, _ in pseudonyms]

    raw = [f"c{i}" for i in range(width)]
    stage = "sql_normalise_stage"
    conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(stage)))
    conn.execute(sql.SQL("create temporary table {} (_n integer generated always as identity, {})").format(
        sql.Identifier(stage), sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in raw)))
    copy_sql = sql.SQL("copy {} ({}) from stdin (format csv, delimiter {}, encoding {})").format(
        sql.Identifier(stage), sql.SQL(", ").join(map(sql.Identifier, raw)), sql.Literal(delimiter),
        sql.Literal(encoding))
    sent_lines = returns = feeds_after_return = 0
    last_byte = b""
    try:
        with conn.transaction(), conn.cursor() as cur, path.open("rb") as handle:
            first = handle.read(_CHUNK)
            while True:
                offset = _header_end(first, first_line - 1)
                if offset is not None:
                    break
                more = handle.read(_CHUNK)
                if not more:
                    return None
                first += more
            with cur.copy(copy_sql) as copy:
                chunk = first[offset:]
                while chunk:
                    if b"\x00" in chunk:
                        raise _NotReached("NUL byte")
                    sent_lines += chunk.count(b"\n")
                    returns += chunk.count(b"\r")
                    feeds_after_return += chunk.count(b"\r\n") + (last_byte == b"\r" and chunk[:1] == b"\n")
                    last_byte = chunk[-1:]
                    copy.write(chunk)
                    chunk = handle.read(_CHUNK)
    except (psycopg.errors.DataError, psycopg.errors.BadCopyFileFormat, _NotReached):
        return None
    if last_byte not in (b"\n", b""):
        sent_lines += 1
    staged = conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(stage))).fetchone()[0]
    if staged != sent_lines or returns != feeds_after_return:
        return None   # a quoted cell spans lines, or a lone CR ends one: row numbers would drift

    cells = [sql.Identifier(raw[p]) if p < width else sql.SQL("null::text") for p in positions]
    row_text = sql.SQL("concat({})").format(sql.SQL(", ").join(cells)) if cells else sql.Literal("")
    values = []
    for i, cell in enumerate(cells):
        # a row without whitespace or full-width characters anywhere in its template cells (most rows)
        # needs neither strip nor translate: each cell is its text, or NULL when empty
        values.append(sql.SQL("case when _dirty then {} else nullif({}, '') end as {}").format(
            _text(cell), cell, sql.Identifier(f"v{i}")))
    first_cell = sql.SQL("coalesce({})").format(sql.SQL(", ").join(
        sql.SQL("nullif({}, '')").format(sql.Identifier(c)) for c in raw))
    outputs = []
    for i, kind in enumerate(kinds):
        v = sql.Identifier(f"v{i}")
        if kind == "number":
            outputs.append(sql.SQL("case when strpos({v}, ',') > 0 and {v} ~ {pattern} then replace({v}, ',', '') "
                                   "else {v} end").format(
                v=v, pattern=sql.Literal(THOUSANDS)))
        elif kind == "id":
            outputs.append(sql.SQL("case when right({v}, 1) = 'x' then left({v}, -1) || 'X' else {v} end").format(v=v))
        else:
            outputs.append(v)
    for _key, parts in pseudonyms:
        # the hashed parts are the normalised values (the Python row hashes them after normalising)
        items: list[sql.Composable] = []
        for j, i in enumerate(parts):
            items += [sql.Literal(SEPARATOR)] * bool(j) + [outputs[i]]
        message = sql.SQL(" || ").join(items)
        present = sql.SQL(" and ").join(sql.SQL("({}) is not null").format(outputs[i]) for i in parts)
        outputs.append(sql.SQL("case when {} then encode(sha256(%(outer)s::bytea || sha256(%(inner)s::bytea || "
                               "convert_to({}, 'UTF8'))), 'hex') end").format(present, message))
    row = sql.SQL("(_n + {})").format(sql.Literal(first_line - 1))
    c0 = sql.Identifier(raw[0])
    # blank: every template cell empty or whitespace (full-width forms other than U+3000 are never
    # whitespace, so this is "every normalised value NULL" without normalising)
    blank = sql.SQL("({} ~ %(blank)s)").format(row_text)
    # a total or footer row, judged as the parser does: the file's first cell is blank or starts with one
    # of the rows' first characters, and the first non-blank cell (spaces removed) matches NOT_DATA
    not_data = sql.SQL("(({c0} is null or {c0} = '' or left({c0}, 1) = any({first})) and "
                       "btrim(replace(replace({first_cell}, ' ', ''), {ideo}, ''), %(ws)s) ~ {pattern})").format(
        c0=c0, first=sql.Literal(list(NOT_DATA_FIRST)), first_cell=first_cell, ideo=sql.Literal("\u3000"),
        pattern=sql.Literal(NOT_DATA))
    unit = sql.Literal(unit_row if unit_row is not None else -1)
    params = {"fw_from": FW_FROM, "fw_to": FW_TO, "ws": WHITESPACE, "blank": f"^[{WHITESPACE}]*$",
              "dirty": f"[{WHITESPACE}\uff01-\uff5e]", **keyed_pads(key)}
    _create_load_table(conn, table, load_columns)
    with conn.cursor() as cur:
        # each "offset 0" keeps what its subquery computes (_dirty, the normalised values) computed once per
        # row: a flattened subquery would repeat the expression in every expression that reads it
        cur.execute(sql.SQL(
            """insert into {table} ({columns})
               select _row, {outputs} from (
                   select {row} as _row, {values}
                   from (select *, {row_text} ~ %(dirty)s as _dirty from {stage}
                         where not {blank} and not {not_data} and {row} <> {unit} offset 0) raw_cells
                   offset 0) normalised""").format(
            table=_ident(table), columns=sql.SQL(", ").join(map(sql.Identifier, ["_source_row", *load_columns])),
            outputs=sql.SQL(", ").join(outputs), row=row, values=sql.SQL(", ").join(values), row_text=row_text,
            stage=sql.Identifier(stage), blank=blank, not_data=not_data, unit=unit), params)
        inserted = cur.rowcount
    # every staged line is loaded, blank, the unit row (found non-blank above) or a total/footer row
    blank_rows = conn.execute(sql.SQL("select count(*) from {} where {}").format(sql.Identifier(stage), blank),
                              params).fetchone()[0]
    unit_rows = int(unit_row is not None and first_line <= unit_row < first_line + staged)
    counts = (inserted, blank_rows, staged - inserted - blank_rows - unit_rows, unit_rows)
    rows_read, blank, not_data_rows, unit_rows = counts
    county = year = None
    if "county_code" in columns:
        found = conn.execute(sql.SQL("select county_code from {} where county_code is not null group by 1 "
                                     "order by count(*) desc, min(_source_row) limit 1").format(
            _ident(table))).fetchone()
        county = found and found[0]
    if "year" in columns:
        found = conn.execute(sql.SQL("select year from {} where year ~ '^[0-9]{{4}}$' and year::int between "
                                     "2000 and 2099 group by 1 order by count(*) desc, min(_source_row) limit 1")
                             .format(_ident(table))).fetchone()
        year = found and int(found[0])
    conn.execute(sql.SQL("drop table {}").format(sql.Identifier(stage)))
    seconds = time.perf_counter() - started
    return Loaded(table, load_columns, rows_read, blank, not_data_rows, unit_rows, county, year, seconds,
                  {"staged_lines": staged, "first_line": first_line})


class _NotReached(Exception):  # noqa: N818 - a limit of the prototype, not an error
    """The file holds what this design does not take (the Python way reads it)."""


def keyed_pads(key: str) -> dict[str, bytes]:
    """HMAC-SHA256's two keyed blocks (RFC 2104: K xor ipad, K xor opad) for the server's ``sha256()``.

    The embedded PostgreSQL has no pgcrypto (no ``hmac()``), so the prototype writes RFC 2104 out over the
    built-in ``sha256``; the tests compare every pseudonym with :mod:`hmac`'s. Adopting the design would
    take pgcrypto's ``hmac()`` on the server instead (see docs/decisions)."""
    raw = key.encode()
    block = hashlib.sha256().block_size
    if len(raw) > block:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(block, b"\0")
    return {"inner": bytes(b ^ 0x36 for b in raw), "outer": bytes(b ^ 0x5C for b in raw)}


def differences(conn: psycopg.Connection, a: Loaded, b: Loaded) -> dict[str, int]:
    """Rows of ``a`` not in ``b`` and of ``b`` not in ``a`` (as multisets), and each table's count."""
    cols = sql.SQL(", ").join(map(sql.Identifier, ["_source_row", *a.columns]))

    def only(x: Loaded, y: Loaded) -> int:
        return conn.execute(sql.SQL("select count(*) from (select {c} from {x} except all select {c} from {y}) d")
                            .format(c=cols, x=_ident(x.table), y=_ident(y.table))).fetchone()[0]

    def count(x: Loaded) -> int:
        return conn.execute(sql.SQL("select count(*) from {}").format(_ident(x.table))).fetchone()[0]

    return {"only_a": only(a, b), "only_b": only(b, a), "rows_a": count(a), "rows_b": count(b)}


# --- the section ------------------------------------------------------------------------------------

def needs(bench: Bench) -> str | None:
    try:
        _ingest()
    except ImportError as err:
        return f"the ingestion's reader and normaliser ({err})"
    return None


def run(bench: Bench) -> list[Result]:
    from benchmarks import throughput, workloads

    rows = throughput.rows_at(bench.scale)
    csv_file = workloads.register_csv(bench.workloads_dir, rows)
    key = bench.cfg.hmac_key()
    times: dict[str, list[float]] = {"sql": [], "python": []}
    limit_runs: list[float] = []
    check: dict[str, int] = {}
    with bench.connect() as conn:
        conn.autocommit = True
        conn.execute("create schema if not exists bench")
        for _ in range(RUNS):
            # each way next to the other and to the COPY limit, round after round (the machine drifts)
            got = sql_rows(conn, csv_file, key, "bench.sqlnorm_sql")
            if got is None:
                raise RuntimeError(f"{csv_file.name}: the SQL way does not reach this file")
            times["sql"].append(got.seconds)
            ref = python_rows(conn, csv_file, key, "bench.sqlnorm_py")
            times["python"].append(ref.seconds)
            if ref.tallies() != got.tallies():
                raise RuntimeError(f"tallies differ: SQL {got.tallies()} vs Python {ref.tallies()}")
            check = differences(conn, got, ref)
            if check["only_a"] or check["only_b"] or check["rows_a"] != got.rows_read:
                raise RuntimeError(f"rows differ: {check}")
            limit_runs.append(throughput.copy_limit(bench, csv_file, runs=1)["seconds"])
    limit = median(limit_runs)
    size = f"{got.rows_read:,} rows"
    per_second = {k: got.rows_read / median(v) for k, v in times.items()}
    copy_rate = got.rows_read / limit
    note = (f"median of {RUNS}: SQL {median(times['sql']):.2f}s, Python {median(times['python']):.2f}s, "
            f"COPY {limit:.2f}s; rows equal both ways ({check['rows_a']:,}, except all 0/0)")
    details = {"seconds": times, "copy_seconds": limit_runs, "check": check, "rows": got.rows_read}
    return [
        Result(SECTION, f"CSV → load table, SQL way ({size})", per_second["sql"], "rows/s",
               "psycopg COPY of the parsed rows", copy_rate, per_second["sql"] / copy_rate, note=note,
               details=details),
        Result(SECTION, f"CSV → load table, Python way ({size})", per_second["python"], "rows/s",
               "psycopg COPY of the parsed rows", copy_rate, per_second["python"] / copy_rate),
        Result(SECTION, "SQL way vs Python way (stage time)", median(times["sql"]), "s",
               "Python way", median(times["python"]), median(times["sql"]) / median(times["python"])),
    ]


