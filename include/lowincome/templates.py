"""The submission templates (the data contract), loaded from ``include/config/templates.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CONFIG_FILE = Path(__file__).resolve().parents[1] / "config" / "templates.yaml"

PG_TYPES = {
    "code": "text",
    "text": "text",
    "int": "integer",
    "year": "smallint",
    "money": "numeric(16,2)",
    "number": "numeric(16,4)",
    "bool": "boolean",
    "date": "date",
    "enum": "text",
}


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: str
    required: bool = True
    nullable: bool = False
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()
    synonyms: dict[str, str] = field(default_factory=dict)
    personal: bool = False
    check: str | None = None
    aliases: tuple[str, ...] = ()
    max_length: int = 0   # the longest cell it takes; set from the contract's max_length of its type


    @property
    def pg_type(self) -> str:
        return PG_TYPES[self.type]


@dataclass(frozen=True)
class Template:
    name: str
    zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    fixed_county_code: str | None = None
    pseudonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]


@dataclass(frozen=True)
class Contract:
    templates: dict[str, Template]
    yes: frozenset[str]
    no: frozenset[str]
    max_length: dict[str, int] = field(default_factory=dict)   # per type

    @property
    def longest_cell(self) -> int:
        """The largest max_length of any column: what a reader must let through to the length rule."""
        return max(c.max_length for t in self.templates.values() for c in t.columns)


def _column(spec: dict, max_length: dict[str, int]) -> Column:
    spec = dict(spec)
    spec["values"] = tuple(spec.get("values", ()))
    spec["aliases"] = tuple(spec.get("aliases", ()))
    spec["synonyms"] = dict(spec.get("synonyms", {}))
    spec.setdefault("max_length", max_length[spec["type"]])
    return Column(**spec)


@cache
def contract(path: Path = CONFIG_FILE) -> Contract:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    max_length = {str(k): int(v) for k, v in doc["max_length"].items()}
    templates = {
        name: Template(
            name=name,
            zh=spec["zh"],
            columns=tuple(_column(c, max_length) for c in spec["columns"]),
            key=tuple(spec.get("key", ())),
            fixed_county_code=spec.get("fixed_county_code"),
            pseudonyms={k: tuple(v) for k, v in spec.get("pseudonyms", {}).items()},
        )
        for name, spec in doc["templates"].items()
    }
    yes_no = doc["yes_no"]
    return Contract(templates, frozenset(map(str, yes_no[True])), frozenset(map(str, yes_no[False])), max_length)


def templates() -> dict[str, Template]:
    return contract().templates


def template(name: str) -> Template:
    return templates()[name]


LINEAGE_COLUMNS = (
    ("_submission_id", "bigint not null"),
    ("_source_row", "integer not null"),
)


# raw tables that cross-file validation looks up by village_code (see raw_table_ddl)
VILLAGE_LOOKUPS = ("households", "villages")


def raw_table_ddl(tpl: Template) -> str:
    """``raw.<template>``: the canonical, typed columns plus lineage (which file, which row)."""
    cols = [f'    "{c.name}" {c.pg_type}' for c in tpl.columns]
    if tpl.fixed_county_code:
        cols.insert(0, '    "county_code" text')
    cols += [f'    "{name}" text' for name in tpl.pseudonyms]
    cols += [f"    {name} {ddl}" for name, ddl in LINEAGE_COLUMNS]
    # A contract that gained a column reaches tables created under the old one.
    evolve = "".join(f"alter table raw.{tpl.name} add column if not exists {col.strip()};\n"
                     for col in cols if "not null" not in col)
    # Cross-file validation looks households up by key (an income row must be in the register): equality
    # probes only, so a hash index. The keys are HMACs, i.e. random: a btree splits a random page per
    # inserted row (measured: benchmarks/RESULTS.md, history, run B); an older warehouse's btree is replaced.
    index = f"{tpl.name}_household_key_idx"
    keyed = (f"do $$ begin if exists (select 1 from pg_indexes where schemaname = 'raw' and indexname = "
             f"'{index}' and indexdef not like '%USING hash%') then drop index raw.{index}; end if; end $$;\n"
             f"create index if not exists {index} on raw.{tpl.name} using hash (household_key);\n"
             if "household_key" in tpl.pseudonyms else "")
    # The relocation rule from_village_other_county probes the registers and the village lists of every
    # county by village code, once per relocation row: without an index each probe read all of
    # raw.households (measured: benchmarks/RESULTS.md, history, run C). Village codes
    # arrive grouped by village, so the btree grows in order.
    by_village = (f"create index if not exists {tpl.name}_village_code_idx on raw.{tpl.name} (village_code);\n"
                  if tpl.name in VILLAGE_LOOKUPS else "")
    return (
        f"create table if not exists raw.{tpl.name} (\n" + ",\n".join(cols) + "\n);\n" + evolve +
        # (file, row): the load deletes the rows validation rejected by it (see loader._write_rows); it
        # serves lookups by file alone as the single-column index it replaces did
        f"create index if not exists {tpl.name}_submission_row_idx on raw.{tpl.name} (_submission_id, _source_row);\n"
        f"drop index if exists raw.{tpl.name}_submission_idx;\n" + keyed
        + by_village
    )
