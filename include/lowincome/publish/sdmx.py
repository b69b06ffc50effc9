"""SDMX for exchange: ``lowincome export sdmx --out DIR`` writes the published marts for statistical
exchange, as SDMX-CSV 2.0 data with an SDMX-ML 3.0 structure message beside them.

What it writes (each file first under a temporary name, then renamed into place):

- ``target_attainment.csv``: dataflow ``ZJ_LOWINCOME:DF_TARGET_ATTAINMENT(1.0.0)``, one row per plan x
  target x geography x year of ``marts.target_attainment``: dimensions PLAN, TARGET, REF_AREA,
  TIME_PERIOD; OBS_VALUE (the headline criterion's value); attributes OBS_STATUS, CONF_STATUS,
  UNIT_MEASURE.
- ``indicator_values.csv``: dataflow ``ZJ_LOWINCOME:DF_INDICATOR_VALUES(1.0.0)``, one row per metric x
  geography x year of ``marts.indicator_values``: dimensions METRIC, REF_AREA, TIME_PERIOD; the same
  measure and attributes.
- ``structure.xml``: the code lists (CL_AREA: the province, the cities and the counties of the seed
  ``counties.csv``, and the 29 and the 12 counties; CL_PLAN and CL_TARGET from the seed ``targets.csv``;
  CL_METRIC and CL_UNIT as published; CL_OBS_STATUS and CL_CONF_STATUS), the concepts, the two data
  structure definitions and the two dataflows the CSV files name. A code the marts hold and its list
  lacks (a seed edited since the publication) refuses the export.

The SDMX-CSV 2.0 layout (sdmx-twg/sdmx-csv, data-message field guide, v2.0.0): the header row
``STRUCTURE,STRUCTURE_ID,ACTION``, then the dimensions, OBS_VALUE and the attributes; every row
``dataflow,AGENCY:ID(VERSION),I,...`` (I: information, the whole publication, not a delta). A cell
without a value (suppressed, missing) has an empty OBS_VALUE.

The marts' statuses in the SDMX cross-domain code lists' codes: OBS_STATUS (CL_OBS_STATUS) ``A``
normal and ``P`` provisional as they are; ``R`` (revised) is ``A``, since CL_OBS_STATUS has no code for
a revision (a receiver learns of one by the new value replacing the old); ``M`` (nothing received for
the cell) is ``O``, missing value (SDMX's ``M`` says that the data cannot exist). CONF_STATUS
(CL_CONF_STATUS) keeps ``F`` free, ``C`` confidential (primary) and ``D`` secondary confidentiality.

Read from the published tables only (the current publication), or with ``--as-of`` from the
publication histories through ``marts.*_as_of``: never from raw or the warehouse.
"""

from __future__ import annotations

import argparse
import csv
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from lowincome.config import Settings, redact, settings
from lowincome.errors import UserError
from lowincome.warehouse import connect, ensure_server

AGENCY = "ZJ_LOWINCOME"
VERSION = "1.0.0"
ACTION = "I"   # information: the whole publication; a loader appends it

# The marts' obs_status and obs_conf as codes of SDMX's CL_OBS_STATUS and CL_CONF_STATUS (module docstring)
OBS_STATUS = {"A": "A", "P": "P", "R": "A", "M": "O"}
CONF_STATUS = {"F": "F", "C": "C", "D": "D"}

# The names SDMX gives the codes used (cross-domain code lists CL_OBS_STATUS and CL_CONF_STATUS)
OBS_STATUS_NAMES = {"A": "Normal value", "P": "Provisional value", "O": "Missing value"}
CONF_STATUS_NAMES = {"F": "Free", "C": "Confidential statistical information",
                     "D": "Secondary confidentiality set by the sender, not for publication"}

GROUPS = {   # the geographies that are not in counties.csv's rows (marts.geography names them alike)
    "330000": ("浙江省", "Zhejiang Province"),
    "group29": ("29县", "The 29 counties"),
    "group12": ("12县", "The 12 counties"),
}
UNIT_NAMES = {"yuan": "Yuan (元)", "percent": "Percent (%)", "pp": "Percentage points (百分点)",
              "ratio": "Ratio (倍)", "count": "Count (个/户)", "persons": "Persons (人)", "km": "Kilometres (公里)"}

ATTRIBUTES = ("OBS_STATUS", "CONF_STATUS", "UNIT_MEASURE")
CONCEPTS = {   # concept: (English, Chinese)
    "PLAN": ("Plan period", "规划期"),
    "TARGET": ("Target of the plan", "目标"),
    "METRIC": ("Published figure", "指标"),
    "REF_AREA": ("Geography", "地区"),
    "TIME_PERIOD": ("Data year", "数据年度"),
    "OBS_VALUE": ("Value", "数值"),
    "OBS_STATUS": ("Observation status", "观测状态"),
    "CONF_STATUS": ("Confidentiality status", "保密标识"),
    "UNIT_MEASURE": ("Unit of measure", "单位"),
}
CODELIST_OF = {"PLAN": "CL_PLAN", "TARGET": "CL_TARGET", "METRIC": "CL_METRIC", "REF_AREA": "CL_AREA",
               "OBS_STATUS": "CL_OBS_STATUS", "CONF_STATUS": "CL_CONF_STATUS", "UNIT_MEASURE": "CL_UNIT"}


@dataclass(frozen=True)
class Flow:
    """One published mart as one SDMX dataflow."""

    mart: str                                  # the table in schema marts (and its *_as_of function)
    id: str                                    # the dataflow's ID; its data structure is DSD_<rest>
    name: tuple[str, str]                      # English, Chinese
    dimensions: tuple[tuple[str, str], ...]    # (SDMX dimension, the mart's column), TIME_PERIOD last

    @property
    def dsd(self) -> str:
        return "DSD_" + self.id.removeprefix("DF_")

    @property
    def structure_id(self) -> str:
        """The STRUCTURE_ID of its rows: AGENCY:ID(VERSION)."""
        return f"{AGENCY}:{self.id}({VERSION})"

    @property
    def header(self) -> list[str]:
        return ["STRUCTURE", "STRUCTURE_ID", "ACTION", *(d for d, _ in self.dimensions), "OBS_VALUE", *ATTRIBUTES]

    @property
    def file_name(self) -> str:
        return f"{self.mart}.csv"


FLOWS = (
    Flow("target_attainment", "DF_TARGET_ATTAINMENT", ("Attainment of the plan's targets", "目标完成情况"),
         (("PLAN", "plan"), ("TARGET", "target_id"), ("REF_AREA", "geography_code"), ("TIME_PERIOD", "year"))),
    Flow("indicator_values", "DF_INDICATOR_VALUES", ("Published figures", "发布指标"),
         (("METRIC", "metric"), ("REF_AREA", "geography_code"), ("TIME_PERIOD", "year"))),
)
STRUCTURE_FILE = "structure.xml"


@dataclass(frozen=True)
class Export:
    """What an export wrote: the folder, the rows of each CSV file, the publication it shows."""

    folder: Path
    rows: dict[str, int]
    as_of: datetime | None


# --- reading the publication ------------------------------------------------------------------------

def _published(conn: psycopg.Connection) -> bool:
    row = conn.execute("select to_regclass('marts.target_attainment') is not null "
                       "and to_regclass('marts.indicator_values') is not null "
                       "and to_regprocedure('marts.target_attainment_as_of(timestamptz)') is not null "
                       "and to_regprocedure('marts.indicator_values_as_of(timestamptz)') is not null").fetchone()
    return bool(row and row[0])


def read_marts(conn: psycopg.Connection, as_of: datetime | None = None) -> dict[str, list[dict]]:
    """The rows of every flow's mart: as published now, or as published at ``as_of`` (its *_as_of)."""
    rows = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for flow in FLOWS:
            columns = ", ".join([c for _, c in flow.dimensions] + ["value", "unit", "obs_status", "obs_conf"])
            order = ", ".join(c for _, c in flow.dimensions)
            source = f"marts.{flow.mart}_as_of(%s)" if as_of else f"marts.{flow.mart}"
            rows[flow.mart] = cur.execute(f"select {columns} from {source} order by {order}",
                                          (as_of,) if as_of else ()).fetchall()
    return rows


def _first_publication(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute("select min(valid_from) from marts.target_attainment_history").fetchone()
    return row[0] if row else None


# --- the code lists ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Code:
    id: str
    names: dict[str, str]          # language -> name


def _seed(cfg: Settings, name: str) -> list[dict]:
    with (cfg.dbt_project_dir / "seeds" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def area_codes(cfg: Settings) -> list[Code]:
    """CL_AREA from the seed counties.csv: the province, its cities, their counties, the two groups.

    A flat list: SDMX-ML 3.0.0's schema takes only a parent whose ID starts with a letter (NCName), and
    the division codes start with a digit (3.1 lifts that; the readers here know 3.0).
    """
    counties = _seed(cfg, "counties.csv")
    codes = [Code("330000", {"zh": GROUPS["330000"][0], "en": GROUPS["330000"][1]})]
    cities = {}
    for county in counties:
        cities.setdefault(county["city_code"], county["city_name"])
    codes += [Code(code, {"zh": name}) for code, name in sorted(cities.items())]
    codes += [Code(c["county_code"], {"zh": c["county_name"]})
              for c in sorted(counties, key=lambda c: c["county_code"])]
    codes += [Code(code, {"zh": zh, "en": en}) for code, (zh, en) in GROUPS.items() if code != "330000"]
    return codes


def code_lists(cfg: Settings, rows: dict[str, list[dict]]) -> dict[str, tuple[tuple[str, str], list[Code]]]:
    """Every code list of the structure: ID -> ((English name, Chinese name), codes)."""
    targets = _seed(cfg, "targets.csv")
    plans = sorted({t["plan"] for t in targets})
    target_names: dict[str, dict[str, str]] = {}
    for t in targets:   # the target's label (its criteria share it)
        target_names.setdefault(t["id"], {"zh": t["label_zh"], "en": t["label_en"]})
    metrics = sorted({r["metric"] for r in rows["indicator_values"]})
    units = sorted({r["unit"] for flow_rows in rows.values() for r in flow_rows if r["unit"]})
    return {
        "CL_AREA": (("Geographies of Zhejiang's income-doubling plan", "地区"), area_codes(cfg)),
        "CL_PLAN": (("Plan periods", "规划期"), [Code(p, {"en": p}) for p in plans]),
        "CL_TARGET": (("Targets of the plan", "目标"), [Code(t, n) for t, n in sorted(target_names.items())]),
        "CL_METRIC": (("Published figures", "发布指标"), [Code(m, {"en": m}) for m in metrics]),
        "CL_UNIT": (("Units of measure", "单位"), [Code(u, {"en": UNIT_NAMES.get(u, u)}) for u in units]),
        "CL_OBS_STATUS": (("Observation status (codes of SDMX's CL_OBS_STATUS)", "观测状态"),
                          [Code(c, {"en": n}) for c, n in OBS_STATUS_NAMES.items()]),
        "CL_CONF_STATUS": (("Confidentiality status (codes of SDMX's CL_CONF_STATUS)", "保密标识"),
                           [Code(c, {"en": n}) for c, n in CONF_STATUS_NAMES.items()]),
    }


def codes_not_listed(rows: dict[str, list[dict]], lists: dict[str, tuple[tuple[str, str], list[Code]]]) -> list[str]:
    """Each code list's codes that the rows use and it lacks (a seed edited since the publication), and
    statuses without an SDMX code: 'CL_AREA: 339999' and the like; empty when every code is listed."""
    listed = {list_id: {code.id for code in codes} for list_id, (_, codes) in lists.items()}
    missing: dict[str, set[str]] = {}
    for flow in FLOWS:
        for row in rows[flow.mart]:
            for dimension, column in flow.dimensions:
                list_id = CODELIST_OF.get(dimension)
                if list_id and str(row[column]) not in listed[list_id]:
                    missing.setdefault(list_id, set()).add(str(row[column]))
            if row["obs_status"] not in OBS_STATUS:
                missing.setdefault("obs_status", set()).add(str(row["obs_status"]))
            if row["obs_conf"] not in CONF_STATUS:
                missing.setdefault("obs_conf", set()).add(str(row["obs_conf"]))
    return [f"{list_id}: {', '.join(sorted(codes))}" for list_id, codes in sorted(missing.items())]


# --- SDMX-CSV 2.0 -----------------------------------------------------------------------------------

def _number(value: Decimal | float | int | None) -> str:
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def observations(flow: Flow, rows: Iterable[dict]) -> Iterator[list[str]]:
    """The CSV rows of ``flow`` (after the header): one per row of its mart."""
    for row in rows:
        hidden = row["obs_conf"] != "F"
        yield ["dataflow", flow.structure_id, ACTION, *(str(row[c]) for _, c in flow.dimensions),
               "" if hidden else _number(row["value"]), OBS_STATUS[row["obs_status"]], CONF_STATUS[row["obs_conf"]],
               row["unit"] or ""]


def _write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, renamed into place (never a half file)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_csv(path: Path, flow: Flow, rows: list[dict]) -> None:
    def write(target: Path) -> None:
        with target.open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f, lineterminator="\r\n")   # RFC 4180
            out.writerow(flow.header)
            out.writerows(observations(flow, rows))

    _write(path, write)


# --- SDMX-ML 3.0 structure message ------------------------------------------------------------------

NS = {
    "mes": "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message",
    "str": "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/structure",
    "com": "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/common",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
URN = "urn:sdmx:org.sdmx.infomodel."


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _names(parent: ET.Element, names: dict[str, str]) -> None:
    for lang, name in names.items():
        _el(parent, "com:Name", name, **{XML_LANG: lang})


def _maintainable(parent: ET.Element, tag: str, kind: str, id_: str, names: dict[str, str]) -> ET.Element:
    element = _el(parent, tag, id=id_, urn=f"{URN}{kind}={AGENCY}:{id_}({VERSION})", agencyID=AGENCY,
                  version=VERSION)
    _names(element, names)
    return element


def _concept_urn(concept: str) -> str:
    return f"{URN}conceptscheme.Concept={AGENCY}:CS_LOWINCOME({VERSION}).{concept}"


def _codelist_urn(codelist: str) -> str:
    return f"{URN}codelist.Codelist={AGENCY}:{codelist}({VERSION})"


def _component(parent: ET.Element, tag: str, concept: str, **attrs: str) -> ET.Element:
    component = _el(parent, tag, id=concept, **attrs)
    _el(component, "str:ConceptIdentity", _concept_urn(concept))
    representation = _el(component, "str:LocalRepresentation")
    if concept in CODELIST_OF:
        _el(representation, "str:Enumeration", _codelist_urn(CODELIST_OF[concept]))
    else:
        _el(representation, "str:TextFormat", textType="ObservationalTimePeriod" if concept == "TIME_PERIOD"
            else "Decimal")
    return component


def structure_message(lists: dict[str, tuple[tuple[str, str], list[Code]]], prepared: datetime) -> ET.ElementTree:
    """The SDMX-ML 3.0 structure message of the flows: code lists, concepts, data structures, dataflows."""
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(_q("mes:Structure"))
    header = _el(root, "mes:Header")
    _el(header, "mes:ID", "LOWINCOME_STRUCTURE")
    _el(header, "mes:Test", "false")
    _el(header, "mes:Prepared", prepared.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _el(header, "mes:Sender", id=AGENCY)
    structures = _el(root, "mes:Structures")

    codelists = _el(structures, "str:Codelists")
    for list_id, ((en, zh), codes) in lists.items():
        codelist = _maintainable(codelists, "str:Codelist", "codelist.Codelist", list_id, {"en": en, "zh": zh})
        for code in codes:
            element = _el(codelist, "str:Code", id=code.id,
                          urn=f"{URN}codelist.Code={AGENCY}:{list_id}({VERSION}).{code.id}")
            _names(element, code.names)

    schemes = _el(structures, "str:ConceptSchemes")
    scheme = _maintainable(schemes, "str:ConceptScheme", "conceptscheme.ConceptScheme", "CS_LOWINCOME",
                           {"en": "Concepts of the low-income monitoring marts", "zh": "低收入农户监测指标概念"})
    for concept, (en, zh) in CONCEPTS.items():
        element = _el(scheme, "str:Concept", id=concept, urn=_concept_urn(concept))
        _names(element, {"en": en, "zh": zh})

    dataflows = _el(structures, "str:Dataflows")
    for flow in FLOWS:
        dataflow = _maintainable(dataflows, "str:Dataflow", "datastructure.Dataflow", flow.id,
                                 {"en": flow.name[0], "zh": flow.name[1]})
        _el(dataflow, "str:Structure", f"{URN}datastructure.DataStructure={AGENCY}:{flow.dsd}({VERSION})")

    dsds = _el(structures, "str:DataStructures")
    for flow in FLOWS:
        dsd = _maintainable(dsds, "str:DataStructure", "datastructure.DataStructure", flow.dsd,
                            {"en": flow.name[0], "zh": flow.name[1]})
        components = _el(dsd, "str:DataStructureComponents")
        dimensions = _el(components, "str:DimensionList", id="DimensionDescriptor",
                         urn=f"{URN}datastructure.DimensionDescriptor={AGENCY}:{flow.dsd}({VERSION}).DimensionDescriptor")
        for position, (dimension, _) in enumerate(flow.dimensions, start=1):
            _component(dimensions, "str:TimeDimension" if dimension == "TIME_PERIOD" else "str:Dimension", dimension,
                       **({} if dimension == "TIME_PERIOD" else {"position": str(position)}))
        attributes = _el(components, "str:AttributeList", id="AttributeDescriptor",
                         urn=f"{URN}datastructure.AttributeDescriptor={AGENCY}:{flow.dsd}({VERSION}).AttributeDescriptor")
        for attribute in ATTRIBUTES:
            element = _component(attributes, "str:Attribute", attribute,
                                 usage="optional" if attribute == "UNIT_MEASURE" else "mandatory")
            relationship = _el(element, "str:AttributeRelationship")
            _el(relationship, "str:Observation")
        measures = _el(components, "str:MeasureList", id="MeasureDescriptor",
                       urn=f"{URN}datastructure.MeasureDescriptor={AGENCY}:{flow.dsd}({VERSION}).MeasureDescriptor")
        _component(measures, "str:Measure", "OBS_VALUE", usage="optional")
    return ET.ElementTree(root)


# --- the export -------------------------------------------------------------------------------------

def _check_out(out: Path) -> None:
    """A folder, or one that can be created in a folder that exists (created once there is something to write)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is not a folder")
    if not out.exists() and not out.parent.is_dir():
        raise UserError(f"--out {out}: its parent folder {out.parent} does not exist")


def export_sdmx(out: Path, as_of: datetime | None = None, cfg: Settings | None = None) -> Export:
    """Write the publication (now, or as it stood at ``as_of``) to ``out`` as SDMX-CSV 2.0 + structure."""
    cfg = cfg or settings()
    if as_of is not None and as_of.tzinfo is None:
        raise UserError("give --as-of with its zone, e.g. 2018-04-30T18:00+08:00")
    _check_out(out)
    ensure_server(cfg)
    with connect(cfg.warehouse_url()) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ   # both marts from one publication
        if not _published(conn):
            raise UserError(f"nothing is published in the warehouse at {redact(cfg.warehouse_url())} yet: "
                            "the marts appear with the first publication (lowincome run)")
        rows = read_marts(conn, as_of)
        if as_of is not None and not any(rows.values()):
            first = _first_publication(conn)
            raise UserError(f"nothing was published by {as_of.isoformat()}: the first publication was at "
                            f"{first.isoformat() if first else 'no time yet'}")
    lists = code_lists(cfg, rows)
    unknown = codes_not_listed(rows, lists)
    if unknown:
        raise UserError(f"the marts hold codes their lists lack ({'; '.join(unknown)}): the seeds changed since "
                        "the last publication; export after the next one")
    out.mkdir(exist_ok=True)
    for flow in FLOWS:
        write_csv(out / flow.file_name, flow, rows[flow.mart])
    tree = structure_message(lists, datetime.now(UTC))
    ET.indent(tree)
    _write(out / STRUCTURE_FILE, lambda target: tree.write(target, encoding="utf-8", xml_declaration=True))
    return Export(out, {flow.file_name: len(rows[flow.mart]) for flow in FLOWS}, as_of)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a time looks like 2018-04-30T18:00+08:00, not {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no zone: give one, e.g. 2018-04-30T18:00+08:00")
    return moment


def cmd_export_sdmx(args: argparse.Namespace) -> int:
    done = export_sdmx(args.out, args.as_of)
    when = f"as published at {done.as_of.isoformat()}" if done.as_of else "the current publication"
    files = ", ".join(f"{name} ({n} rows)" for name, n in done.rows.items())
    print(f"SDMX-CSV 2.0 of {when} in {done.folder}: {files}; code lists and data structures in {STRUCTURE_FILE}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """lowincome export sdmx --out DIR [--as-of TIME]"""
    export = sub.add_parser("export", help="write the published marts for exchange (sdmx: SDMX-CSV 2.0)",
                            description="Write the published marts in an exchange format.")
    formats = export.add_subparsers(dest="format", required=True)
    sdmx = formats.add_parser("sdmx", help="SDMX-CSV 2.0 of target_attainment and indicator_values, with their "
                                           "SDMX-ML 3.0 structure (code lists, data structures, dataflows)",
                              description="Write target_attainment.csv and indicator_values.csv (SDMX-CSV 2.0) and "
                                          "structure.xml (SDMX-ML 3.0: code lists, data structures, dataflows).")
    sdmx.add_argument("--out", type=Path, required=True, metavar="DIR",
                      help="the folder to write to (created if its parent exists; files there are replaced)")
    sdmx.add_argument("--as-of", type=_moment, metavar="TIME",
                      help="the publication as it stood at this time, with its zone (2018-04-30T18:00+08:00); "
                           "default: the current one")
    sdmx.set_defaults(func=cmd_export_sdmx)
