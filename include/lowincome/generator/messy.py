"""Real-world faults and variants, put at known places so that the ingestion's handling can be checked.

A :class:`FaultPlan` picks, for each kind of fault, one county-year among those generated (spread over
counties and years). While that county-year's files are written, :class:`CountyYearFaults` changes
the tables (extra bad rows, blank rows, a 合计 line, a changed style or layout) or adds files beside
them, and reports each fault with the spreadsheet row the county would see (1-based, title, unit and
header rows included). Bad rows are extra rows with fresh household numbers where possible, so that
rejecting them takes nothing else with it.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lowincome.generator.counties import County
from lowincome.generator.economy import Stream, rng_for
from lowincome.generator.names import CHECK_CHARS, id_numbers
from lowincome.generator.projects import sends
from lowincome.generator.styles import SubmissionStyle
from lowincome.generator.writers import Layout, Table, file_name, preamble_rows

OUTCOMES = ("file_rejected", "row_rejected", "warn", "accepted")
OUT_OF_SCOPE_CODE = "110101"
OTHER_COUNTY, OTHER_COUNTY_ALT = "330881", "330803"   # a village of another county in scope (江山市, 衢江区)
UNKNOWN_STATUS = "待核实"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class Fault:
    """One deliberate fault or variant: where it is and what the ingestion should make of it."""

    file: str  # file name inside the output folder
    template: str
    kind: str
    row: int | None  # spreadsheet row as the county sees it (1-based, incl. title/unit/header rows)
    column: str | None  # canonical column name
    expected: str  # file_rejected | row_rejected | warn | accepted
    county_code: str
    year: int
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FaultKind:
    name: str
    template: str
    expected: str
    fmt: str | None  # the file format the fault needs, if any
    detail: str


ACCEPTED, ROW, FILE = "accepted", "row_rejected", "file_rejected"
INCOME, HOUSEHOLDS, PROGRAMS = "household_income", "households", "program_participation"
FUNDS = "project_funds"
KINDS: tuple[FaultKind, ...] = (
    FaultKind("total_row", INCOME, ACCEPTED, None, "a 合计 (total) line after the data; not a data row"),
    FaultKind("blank_rows", INCOME, ACCEPTED, None, "blank rows in the middle of the data"),
    FaultKind("fullwidth_digits", HOUSEHOLDS, ACCEPTED, None, "full-width digits in a code or a number"),
    FaultKind("wan_yuan_header", "villages", ACCEPTED, None, "amounts in 万元, said in the header; ×10,000"),
    FaultKind("id_as_float_csv", HOUSEHOLDS, ROW, "csv", "ID number turned by Excel into 3.30803E+17"),
    FaultKind("id_as_float_xlsx", HOUSEHOLDS, ROW, "xlsx", "ID number stored as a numeric cell"),
    FaultKind("bad_check_digit", HOUSEHOLDS, ROW, None, "ID number with a wrong GB 11643 check digit"),
    FaultKind("merged_header", INCOME, ACCEPTED, "xlsx", "two-row header with merged group cells"),
    FaultKind("data_on_second_sheet", PROGRAMS, ACCEPTED, "xlsx",
              "an instructions sheet first; the data is on the second sheet"),
    FaultKind("chinese_file_name", INCOME, ACCEPTED, "xlsx",
              "named like 衢江区2014年低收入农户收入监测表.xlsx, not code_template_year"),
    FaultKind("county_out_of_scope", "villages", FILE, None, "county code 110101 is not in scope"),
    FaultKind("year_mismatch", "county_indicators", FILE, None, "file name and year column disagree"),
    FaultKind("missing_required_column", HOUSEHOLDS, FILE, None, "a required column is missing"),
    FaultKind("components_not_summing", INCOME, ROW, None, "the income components do not add up to net"),
    FaultKind("labour_exceeds_size", HOUSEHOLDS, ROW, None, "labour_count greater than household_size"),
    FaultKind("unknown_status", HOUSEHOLDS, ROW, None, f"status {UNKNOWN_STATUS!r} is not in the list"),
    FaultKind("empty_file", "relocations", FILE, None, "an empty (0-byte) file"),
    FaultKind("binary_junk_xlsx", PROGRAMS, FILE, None, "not a workbook, though named .xlsx"),
    FaultKind("gbk_csv", "relocations", ACCEPTED, "csv", "CSV encoded in GBK"),
    FaultKind("duplicate_household_id", HOUSEHOLDS, ROW, None,
              "the same household twice in one file; the second occurrence is the fault"),
    FaultKind("household_not_in_register", INCOME, ROW, None,
              "an income row for a household that is in no register of the county"),
    # project funds (公告公示); new kinds go last, so that the earlier kinds keep their county-years
    FaultKind("disbursed_over_allocated", FUNDS, ROW, None, "已拨付资金 above 安排资金"),
    FaultKind("announcement_ends_before_start", FUNDS, ROW, None, "公示期满日期 before 公示日期"),
    FaultKind("project_village_other_county", FUNDS, ROW, None, "实施村代码 of a village of another county"),
    FaultKind("duplicate_project_id", FUNDS, ROW, None,
              "the same project number twice; the second occurrence is the fault (both rows are rejected)"),
    FaultKind("funds_without_optional_columns", FUNDS, ACCEPTED, None,
              "last year's layout: no village, beneficiary or announcement columns; loads with them null"),
)
KIND_BY_NAME = {k.name: k for k in KINDS}
# kinds that cannot share a county-year: the second would undo the first (a dropped column)
CONFLICTS = [{"funds_without_optional_columns", "project_village_other_county"},
             {"funds_without_optional_columns", "announcement_ends_before_start"}]
EXTRA_FILE_KINDS = {"county_out_of_scope", "year_mismatch", "missing_required_column", "empty_file",
                    "binary_junk_xlsx"}


@dataclass
class FaultPlan:
    """Which county-year carries which faults."""

    by_county_year: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def kinds(self, county_code: str, year: int) -> list[str]:
        return self.by_county_year.get((county_code, year), [])


def plan_faults(counties: list[County], years: list[int], seed: int) -> FaultPlan:
    """Each kind once, spread over counties and years; kinds needing other formats of a file never meet."""
    rng = np.random.default_rng([seed, int(Stream.MESSY)])
    order = [counties[i] for i in rng.permutation(len(counties))]
    slots = [(order[i % len(order)].code, years[i % len(years)]) for i in range(len(order) * len(years))]
    plan = FaultPlan()
    forced: dict[tuple[str, int, str], str] = {}
    for k, kind in enumerate(KINDS):
        for attempt in range(len(slots)):
            code, year = slots[(k + attempt) % len(slots)]
            if not sends(kind.template, year):
                continue
            if any({kind.name, other} in CONFLICTS for other in plan.kinds(code, year)):
                continue
            key = (code, year, kind.template)
            if kind.fmt and forced.get(key, kind.fmt) != kind.fmt:
                continue
            if kind.fmt:
                forced[key] = kind.fmt
            plan.by_county_year.setdefault((code, year), []).append(kind.name)
            break
    return plan


@dataclass
class _Pending:
    kind: str
    template: str
    row: list[Any] | None  # the row object inside the table, located once the file is final
    column: str | None
    header_row: bool = False  # the fault sits in the header row(s)
    detail: str = ""


@dataclass
class Output:
    """One file to write: a table in a style and layout, or raw bytes."""

    name: str
    template: str
    county_code: str
    year: int
    table: Table | None = None
    style: SubmissionStyle | None = None
    layout: Layout = field(default_factory=Layout)
    raw: bytes | None = None
    pending: list[_Pending] = field(default_factory=list)
    regular: bool = True  # one of the county-year's ordinary files (counted in the summary)

    def faults(self) -> list[Fault]:
        rows_above = preamble_rows(self.table, self.style, self.layout) if self.table is not None else 0
        position = {id(r): i for i, r in enumerate(self.table.rows)} if self.table is not None else {}
        result = []
        for p in self.pending:
            kind = KIND_BY_NAME[p.kind]
            if p.header_row:
                row = rows_above - (1 if self.layout.merged_header else 0)
            elif p.row is not None:
                row = rows_above + position[id(p.row)] + 1
            else:
                row = None
            result.append(Fault(file=self.name, template=p.template, kind=p.kind, row=row, column=p.column,
                                expected=kind.expected, county_code=self.county_code, year=self.year,
                                detail=p.detail or kind.detail))
        return result


class CountyYearFaults:
    """Applies the planned faults to one county-year's tables."""

    def __init__(self, county: County, year: int, kinds: Iterable[str], seed: int, all_years: list[int]):
        self.county = county
        self.year = year
        self.kinds = list(kinds)
        self.rng = rng_for(seed, county.code, year, Stream.MESSY)
        self.all_years = all_years
        self._fresh = 0
        # rows as the county wrote them, per table; each fault takes a row no other fault has touched
        self._untouched: dict[int, list[list[Any]]] = {}

    def apply(self, outputs: dict[str, Output]) -> list[Output]:
        """Change the regular outputs in place; return the extra files."""
        extras = [self._extra(kind, outputs) for kind in self.kinds if kind in EXTRA_FILE_KINDS]
        # inserted rows first, then blank rows, then the 合计 line, so that the total stays last
        order = sorted((k for k in self.kinds if k not in EXTRA_FILE_KINDS),
                       key=lambda k: {"blank_rows": 1, "total_row": 2, "funds_without_optional_columns": 3}.get(k, 0))
        for kind in order:
            getattr(self, f"_{kind}")(outputs[KIND_BY_NAME[kind].template])
        return [e for e in extras if e is not None]

    # -- helpers ----------------------------------------------------------------------------------------
    def _fresh_household_id(self, series: int = 90) -> str:
        self._fresh += 1
        return f"{self.county.code}-{series}{self._fresh:04d}"

    def _fresh_id_number(self) -> str:
        while True:
            number = id_numbers(self.rng, self.county.code, np.array([1950 + int(self.rng.integers(40))]),
                                np.array([False]))[0]
            if not number.endswith("X"):
                return number

    def _take(self, table: Table) -> list[Any] | None:
        """One of the table's original data rows, not used by another fault yet."""
        pool = self._untouched.setdefault(id(table), [r for r in table.rows if id(r) not in table.non_data])
        if not pool:
            return None
        return pool.pop(int(self.rng.integers(len(pool))))

    def _insert(self, table: Table, row: list[Any]) -> list[Any]:
        """Put ``row`` somewhere inside the data (not first, not last)."""
        n = len(table.rows)
        at = int(self.rng.integers(1, n)) if n > 1 else n
        table.rows.insert(at, row)
        return row

    def _clone(self, table: Table) -> list[Any] | None:
        original = self._take(table)
        return None if original is None else list(original)

    def _set(self, table: Table, row: list[Any], column: str, value: Any) -> None:
        row[table.columns.index(column)] = value

    def _get(self, table: Table, row: list[Any], column: str) -> Any:
        return row[table.columns.index(column)]

    def _bad_household(self, out: Output, kind: str, column: str, value: Any) -> None:
        """An extra row, copied from a real one under a fresh household number, with one bad cell."""
        table = out.table
        row = self._clone(table)
        if row is None:
            return
        self._set(table, row, "household_id", self._fresh_household_id())
        self._set(table, row, "head_id_number", self._fresh_id_number())
        self._set(table, row, column, value(row) if callable(value) else value)
        self._insert(table, row)
        out.pending.append(_Pending(kind, out.template, row, column))

    def _force(self, out: Output, fmt: str | None = None, **style_changes: Any) -> None:
        changes = dict(style_changes)
        if fmt:
            changes["fmt"] = fmt
            out.name = str(Path(out.name).with_suffix(f".{fmt}"))
        out.style = out.style.with_changes(**changes)

    # -- households -------------------------------------------------------------------------------------
    def _fullwidth_digits(self, out: Output) -> None:
        table = out.table
        for column in ("village_code", "household_size"):
            row = self._take(table)
            if row is None:
                return
            self._set(table, row, column, str(self._get(table, row, column)).translate(FULL_WIDTH))
            out.pending.append(_Pending("fullwidth_digits", out.template, row, column))

    def _id_as_float_csv(self, out: Output) -> None:
        self._force(out, "csv")
        number = self._fresh_id_number()
        self._bad_household(out, "id_as_float_csv", "head_id_number", f"{float(number):.5E}")

    def _id_as_float_xlsx(self, out: Output) -> None:
        self._force(out, "xlsx")
        number = self._fresh_id_number()
        self._bad_household(out, "id_as_float_xlsx", "head_id_number", float(number))

    def _bad_check_digit(self, out: Output) -> None:
        number = self._fresh_id_number()
        wrong = next(c for c in CHECK_CHARS[int(self.rng.integers(1, 11)):] + CHECK_CHARS if c != number[-1])
        self._bad_household(out, "bad_check_digit", "head_id_number", number[:17] + wrong)

    def _labour_exceeds_size(self, out: Output) -> None:
        table = out.table
        self._bad_household(out, "labour_exceeds_size", "labour_count",
                            lambda row: int(self._get(table, row, "household_size")) + 2)

    def _unknown_status(self, out: Output) -> None:
        self._bad_household(out, "unknown_status", "status", UNKNOWN_STATUS)

    def _duplicate_household_id(self, out: Output) -> None:
        table = out.table
        original = self._take(table)
        if original is None:
            return
        copy_row = list(original)
        after = table.rows.index(original) + 1
        at = int(self.rng.integers(after, len(table.rows) + 1))
        table.rows.insert(at, copy_row)
        first = self._get(table, original, "household_id")
        out.pending.append(_Pending("duplicate_household_id", out.template, copy_row, "household_id",
                                    detail=f"second occurrence of {first}"))

    # -- income -----------------------------------------------------------------------------------------
    def _total_row(self, out: Output) -> None:
        table = out.table
        data = [r for r in table.rows if id(r) not in table.non_data]
        total: list[Any] = [None] * len(table.columns)
        total[0] = "合计"
        for j, name in enumerate(table.columns):
            col_type = table.template.column(name).type
            if col_type in ("money", "int") and name != "year":
                values = [r[j] for r in data if isinstance(r[j], int | float) and not isinstance(r[j], bool)]
                total[j] = round(sum(values), 2) if col_type == "money" else int(sum(values))
        table.rows.append(total)
        table.non_data.add(id(total))
        out.pending.append(_Pending("total_row", out.template, total, table.columns[0]))

    def _blank_rows(self, out: Output) -> None:
        table = out.table
        at = max(1, len(table.rows) // 2)
        for _ in range(2):
            blank: list[Any] = [None] * len(table.columns)
            table.rows.insert(at, blank)
            table.non_data.add(id(blank))
            out.pending.append(_Pending("blank_rows", out.template, blank, None))

    def _components_not_summing(self, out: Output) -> None:
        table = out.table
        row = self._take(table)
        if row is None:
            return
        self._set(table, row, "wage_income", round(self._get(table, row, "wage_income") + 500.0, 2))
        out.pending.append(_Pending("components_not_summing", out.template, row, "net_income",
                                    detail="wage_income raised by 500 yuan, net_income unchanged"))

    def _household_not_in_register(self, out: Output) -> None:
        table = out.table
        row = self._clone(table)
        if row is None:
            return
        self._set(table, row, "household_id", self._fresh_household_id(series=99))
        self._insert(table, row)
        out.pending.append(_Pending("household_not_in_register", out.template, row, "household_id"))

    def _merged_header(self, out: Output) -> None:
        self._force(out, "xlsx", headers="zh" if out.style.headers == "en" else out.style.headers)
        out.layout = Layout(merged_header=True, cover_sheet=out.layout.cover_sheet)
        out.pending.append(_Pending("merged_header", out.template, None, None, header_row=True))

    def _chinese_file_name(self, out: Output) -> None:
        self._force(out, "xlsx")
        out.name = f"{self.county.name}{self.year}年{out.table.template.zh}.xlsx"
        out.pending.append(_Pending("chinese_file_name", out.template, None, None))

    # -- other regular files ----------------------------------------------------------------------------
    def _data_on_second_sheet(self, out: Output) -> None:
        self._force(out, "xlsx")
        out.layout = Layout(merged_header=out.layout.merged_header, cover_sheet=True)
        out.pending.append(_Pending("data_on_second_sheet", out.template, None, None))

    def _wan_yuan_header(self, out: Output) -> None:
        headers = "zh" if out.style.headers == "en" else out.style.headers
        self._force(out, headers=headers, wan_yuan=out.style.wan_yuan | {"collective_operating_income"})
        out.pending.append(_Pending("wan_yuan_header", out.template, None, "collective_operating_income",
                                    header_row=True))

    def _gbk_csv(self, out: Output) -> None:
        self._force(out, "csv", encoding="gbk")
        out.pending.append(_Pending("gbk_csv", out.template, None, None))

    # -- project funds ----------------------------------------------------------------------------------
    def _bad_project(self, out: Output, kind: str, column: str, **values: Any) -> None:
        """An extra project, copied from a real one under a fresh project number, with bad cells."""
        table = out.table
        row = self._clone(table)
        if row is None:
            return
        self._fresh += 1
        self._set(table, row, "project_id", f"XM{self.year}{self.county.code[-4:]}-9{self._fresh:02d}")
        for name, value in values.items():
            self._set(table, row, name, value(row) if callable(value) else value)
        self._insert(table, row)
        out.pending.append(_Pending(kind, out.template, row, column))

    def _disbursed_over_allocated(self, out: Output) -> None:
        table = out.table
        self._bad_project(out, "disbursed_over_allocated", "amount_disbursed",
                          amount_disbursed=lambda row: self._get(table, row, "amount_allocated") + 50_000.0)

    def _announcement_ends_before_start(self, out: Output) -> None:
        self._bad_project(out, "announcement_ends_before_start", "announcement_ends_on",
                          announced_on=dt.date(self.year, 5, 10), announcement_ends_on=dt.date(self.year, 5, 3))

    def _project_village_other_county(self, out: Output) -> None:
        other = OTHER_COUNTY if self.county.code != OTHER_COUNTY else OTHER_COUNTY_ALT
        self._bad_project(out, "project_village_other_county", "village_code", village_code=f"{other}100201")

    def _duplicate_project_id(self, out: Output) -> None:
        table = out.table
        original = self._take(table)
        if original is None:
            return
        copy_row = list(original)
        after = table.rows.index(original) + 1
        table.rows.insert(int(self.rng.integers(after, len(table.rows) + 1)), copy_row)
        out.pending.append(_Pending("duplicate_project_id", out.template, copy_row, "project_id",
                                    detail=f"second occurrence of {self._get(table, original, 'project_id')}"))

    def _funds_without_optional_columns(self, out: Output) -> None:
        table = out.table
        keep = [j for j, name in enumerate(table.columns) if table.template.column(name).required]
        table.columns = [table.columns[j] for j in keep]
        for i, row in enumerate(table.rows):
            row[:] = [row[j] for j in keep]
            table.rows[i] = row
        out.pending.append(_Pending("funds_without_optional_columns", out.template, None, None))

    # -- extra files ------------------------------------------------------------------------------------
    def _extra(self, kind: str, outputs: dict[str, Output]) -> Output | None:
        spec = KIND_BY_NAME[kind]
        source = outputs[spec.template]
        county, year = self.county, self.year
        plain = source.style.with_changes(fmt="csv", encoding="utf-8")
        if kind == "county_out_of_scope":
            table = _copy_table(source.table)
            for row in table.rows:
                self._set(table, row, "county_code", OUT_OF_SCOPE_CODE)
                if "village_code" in table.columns:
                    village = self._get(table, row, "village_code")
                    self._set(table, row, "village_code", OUT_OF_SCOPE_CODE + village[6:])
            table.county_code = OUT_OF_SCOPE_CODE
            out = Output(file_name(OUT_OF_SCOPE_CODE, spec.template, year, "csv"), spec.template,
                         OUT_OF_SCOPE_CODE, year, table, plain, regular=False)
        elif kind == "year_mismatch":
            table = _copy_table(source.table)
            named = _other_year(year, self.all_years)
            name = (file_name(county.code, spec.template, named, "csv") if named is not None
                    else f"{county.name}{year - 1}年{table.template.zh}.csv")
            named_year = named if named is not None else year - 1
            out = Output(name, spec.template, county.code, year, table, plain, regular=False)
            out.pending.append(_Pending(kind, spec.template, None, "year",
                                        detail=f"named for {named_year}, year column says {year}"))
            return out
        elif kind == "missing_required_column":
            table = _copy_table(source.table)
            required = [c.name for c in table.template.columns if c.required]
            dropped = next((c for c in ("is_dibao", "poverty_cause", "labour_count") if c in required),
                           required[-1])
            j = table.columns.index(dropped)
            table.columns = table.columns[:j] + table.columns[j + 1:]
            table.rows = [r[:j] + r[j + 1:] for r in table.rows]
            name = f"{county.name}{year}年{table.template.zh}(补报).csv"
            out = Output(name, spec.template, county.code, year, table, plain, regular=False)
            out.pending.append(_Pending(kind, spec.template, None, dropped, detail=f"{dropped} missing"))
            return out
        elif kind == "empty_file":
            name = f"{county.name}{year}年{source.table.template.zh}.csv"
            out = Output(name, spec.template, county.code, year, raw=b"", regular=False)
        elif kind == "binary_junk_xlsx":
            junk = self.rng.integers(0, 256, size=4096, dtype=np.uint8).tobytes()
            name = f"{county.name}{year}年{source.table.template.zh}.xlsx"
            out = Output(name, spec.template, county.code, year, raw=junk, regular=False)
        else:  # pragma: no cover - every extra kind is handled above
            return None
        out.pending.append(_Pending(kind, spec.template, None, None))
        return out


def _copy_table(table: Table) -> Table:
    clone = copy.copy(table)
    clone.rows = [list(r) for r in table.rows]
    clone.columns = list(table.columns)
    clone.non_data = set()
    return clone


def _other_year(year: int, years: list[int]) -> int | None:
    """A year next to ``year`` that is not generated, so that the misnamed file collides with nothing."""
    for distance in range(1, 20):
        for candidate in (year - distance, year + distance):
            if 2012 <= candidate <= 2030 and candidate not in years:
                return candidate
    return None
