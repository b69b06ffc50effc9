"""The input files the sections ingest, built from ``lowincome generate`` output and cached.

* One big household register (``households``: 14 columns, two of them personal) of exactly N rows, as
  CSV and as XLSX with the same header and values. The rows are generated with the public generator
  for one county at the scale that gives that county N households (330327 苍南县, the largest), then
  written out with the template's Chinese header: counties' files differ in wording and encoding, the
  benchmark compares paths on the same bytes, so it uses one plain layout. XLSX cells are typed the
  way a county's workbook holds them (numbers as numbers, codes and words as text).
* Small files for the per-file overhead: slices of that register handed to other counties (county code,
  village code prefix and household id rewritten, so each slice is a valid file of its county).
* Province-years for the nightly sections: ``generate(out, years, scale)`` as counties send them
  (CSV and XLSX mixed, per-county styles).

Generation is not measured and is kept under ``benchmarks/out/workloads`` between runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from lowincome.templates import template

BIG_COUNTY = "330327"
YEAR = 2013
TEMPLATE = "households"
_INT_TYPES = ("int", "year")
_NUMBER_TYPES = ("money", "number")


def _read_generated(path: Path) -> Iterator[list[str]]:
    """The rows of a generated county CSV (any of the encodings counties use)."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"{path} is neither UTF-8 nor GB18030")
    yield from csv.reader(text.splitlines())


def canonical_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """(canonical column names, data rows in that order) of a generated county CSV."""
    from lowincome.ingest.recognise import find_header

    rows = _read_generated(path)
    head = [next(rows) for _ in range(1)]
    match = find_header(head)
    if match is None or match.template.name != TEMPLATE:
        raise ValueError(f"{path}: not a {TEMPLATE} file")
    names = [c.name for c in match.template.columns if c.name in match.columns]
    positions = [match.columns[n] for n in names]

    def data() -> Iterator[list[str]]:
        for row in rows:
            if row and any(row):
                yield [row[p] if p < len(row) else "" for p in positions]
    return names, data()


def _generated_register(root: Path, rows: int) -> Path:
    """A generated households CSV of BIG_COUNTY with at least ``rows`` data rows (cached)."""
    from lowincome.generator import generate
    from lowincome.generator.counties import select_counties
    from lowincome.generator.households import initial_households

    # Any register generated before with enough rows will do: its first rows are a register too.
    for done in sorted(root.glob(f"generated_{BIG_COUNTY}_{YEAR}_s*/_done.json"),
                       key=lambda p: json.loads(p.read_text())["rows"].get(TEMPLATE, 0)):
        if json.loads(done.read_text())["rows"].get(TEMPLATE, 0) >= rows:
            return done.parent / f"{BIG_COUNTY}_{TEMPLATE}_{YEAR}.csv"
    county = select_counties([BIG_COUNTY])[0]
    # The year's register holds a few percent more than the 2012 one (new households, 退出 shown once).
    scale = round(max(rows, 50) / initial_households(county, 1.0) * 1.02, 4)
    for _attempt in range(4):
        folder = root / f"generated_{BIG_COUNTY}_{YEAR}_s{scale}"
        done = folder / "_done.json"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            summary = generate(folder, [YEAR], scale=scale, counties=[BIG_COUNTY], fmt="csv")
            done.write_text(json.dumps({"rows": summary.rows}))
        have = json.loads(done.read_text())["rows"].get(TEMPLATE, 0)
        if have >= rows:
            return folder / f"{BIG_COUNTY}_{TEMPLATE}_{YEAR}.csv"
        scale = round(scale * rows / max(have, 1) * 1.02, 4)
    raise RuntimeError(f"could not generate {rows} {TEMPLATE} rows for {BIG_COUNTY}")


def register_csv(root: Path, rows: int) -> Path:
    """``<root>/register_<rows>/330327_households_2013.csv``: exactly ``rows`` data rows, UTF-8."""
    folder = root / f"register_{rows}"
    target = folder / f"{BIG_COUNTY}_{TEMPLATE}_{YEAR}.csv"
    if target.exists():
        return target
    source = _generated_register(root, rows)
    names, data = canonical_rows(source)
    tpl = template(TEMPLATE)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([tpl.column(n).zh for n in names])
        for written, row in enumerate(data):
            if written >= rows:
                break
            writer.writerow(row)
    os.replace(tmp, target)
    return target


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """(canonical names, rows) of a register written by :func:`register_csv`."""
    names, data = canonical_rows(path)
    return names, list(data)


def _typed_cell(kind: str, value: str) -> object:
    if value == "":
        return None
    if kind in _INT_TYPES:
        return int(value)
    if kind in _NUMBER_TYPES:
        return float(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    return value


def register_xlsx(root: Path, rows: int) -> Path:
    """The same rows as :func:`register_csv` in a workbook (one sheet, header in row 1), typed cells."""
    folder = root / f"register_{rows}"
    target = folder / f"{BIG_COUNTY}_{TEMPLATE}_{YEAR}.xlsx"
    if target.exists():
        return target
    from openpyxl import Workbook

    source = register_csv(root, rows)
    names, data = canonical_rows(source)
    tpl = template(TEMPLATE)
    kinds = [tpl.column(n).type for n in names]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(tpl.zh)
    sheet.append([tpl.column(n).zh for n in names])
    for row in data:
        sheet.append([_typed_cell(k, v) for k, v in zip(kinds, row, strict=True)])
    tmp = target.with_suffix(".tmp.xlsx")
    book.save(tmp)
    os.replace(tmp, target)
    return target


def other_counties(count: int, exclude: str = BIG_COUNTY) -> list[str]:
    from lowincome.generator.counties import load_counties

    codes = [c.code for c in load_counties() if c.code != exclude]
    if count > len(codes):
        raise ValueError(f"only {len(codes)} counties to spread {count} files over")
    return codes[:count]


def write_slices(root: Path, folder: Path, files: int, rows_each: int, counties: Sequence[str]) -> list[Path]:
    """``files`` households files of ``rows_each`` rows, slice k for ``counties[k % len(counties)]``.

    Every slice holds different rows (so no file is a duplicate of another) and is a valid register of
    its county: county code, the village code's county prefix and the household id are rewritten.
    """
    source = register_csv(root, files * rows_each)
    names, data = read_csv_rows(source)
    at = {n: i for i, n in enumerate(names)}
    tpl = template(TEMPLATE)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(files):
        county = counties[k % len(counties)]
        path = folder / f"{county}_{TEMPLATE}_{YEAR}_{k:03d}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([tpl.column(n).zh for n in names])
            for i, row in enumerate(data[k * rows_each:(k + 1) * rows_each]):
                row = list(row)
                row[at["county_code"]] = county
                row[at["village_code"]] = county + row[at["village_code"]][6:]
                row[at["household_id"]] = f"{county}-{k:03d}{i:06d}"
                writer.writerow(row)
        paths.append(path)
    return paths


def one_file(root: Path, folder: Path, rows: int) -> Path:
    """The first ``rows`` rows of the register as one file of BIG_COUNTY in ``folder``."""
    source = register_csv(root, rows)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    return target


def province(root: Path, years: Sequence[int], scale: float, counties: Sequence[str] | None = None) -> Path:
    """A province's submissions for ``years`` at ``scale`` as counties send them (cached); ``counties``
    keeps only those (the province file is always there)."""
    from lowincome.generator import generate

    years = sorted(years)
    subset = f"_c{len(counties)}" if counties else ""
    folder = root / f"province_{years[0]}-{years[-1]}_s{scale}{subset}"
    done = folder / "_done.json"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        summary = generate(folder, years, scale=scale, counties=list(counties) if counties else None, fmt="mixed")
        done.write_text(json.dumps({"rows": summary.rows, "files": len(summary.files)}))
    return folder


def province_rows(folder: Path) -> dict[str, int]:
    return json.loads((folder / "_done.json").read_text())["rows"]


def stage(source: Path | Sequence[Path], landing: Path, years: Sequence[int] | None = None) -> list[Path]:
    """Copy files into a landing folder (ingestion deletes what it finished). Copies, not hard links:
    landing refuses a file with a second name (lowincome.ingest.files)."""
    landing.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in source.iterdir() if p.is_file()) if isinstance(source, Path) else list(source)
    staged = []
    for path in files:
        if path.name.startswith(("_", ".")):
            continue
        if years is not None and not any(f"_{y}." in path.name for y in years):
            continue
        target = landing / path.name
        shutil.copyfile(path, target)
        staged.append(target)
    return staged
