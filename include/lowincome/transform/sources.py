"""dbt's sources, written from the contract (templates.yaml), so the raw columns are listed in one place.

``dbt_project/models/staging/_sources.yml`` is this module's output, committed so dbt needs no Python to
parse; a test fails when the file and the contract drift apart (regenerate with
``python -m lowincome.transform.sources``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from lowincome.config import settings
from lowincome.templates import LINEAGE_COLUMNS, Template, templates

HEADER = """\
# GENERATED from include/config/templates.yaml by `python -m lowincome.transform.sources`; do not edit.
#
# Freshness rule: a template is stale when a county in scope (the province, 330000, for
# province_indicators) has no loaded submission for the latest year whose reporting deadline
# (seed reporting_calendar) has passed. The query reports that deadline as the "load time" when a
# submission is missing (so its age is the time since the deadline) and now() when none is.
"""

PSEUDONYM_DOCS = {
    "household_key": "Household key (户编号的密钥哈希): HMAC-SHA256 of county_code + household_id, computed by the "
                     "loader; identifies a household from staging on.",
    "head_person_key": "Household head key (户主身份证号的密钥哈希): HMAC-SHA256 of the head's ID number.",
    "relocation_key": "Relocation key (搬迁户编号的密钥哈希): HMAC-SHA256 of county_code + relocation_id.",
}
LINEAGE_DOCS = {
    "_submission_id": "The ops.submissions row (the file) this row was loaded from (来源文件).",
    "_source_row": "Row number in the county's own file (原文件行号).",
}

FRESHNESS_QUERY = """\
with due as (
    select max(year) as year from {{{{ seed_relation('reporting_calendar') }}}}
    where template = '{template}' and deadline < current_date
),
deadline as (
    select c.deadline from {{{{ seed_relation('reporting_calendar') }}}} c join due on c.year = due.year
    where c.template = '{template}'
),
expected as (
    {expected}
),
missing as (
    select e.county_code from expected e
    where not exists (
        select 1 from {{{{ source('ops', 'submissions') }}}} s, due
        where s.template = '{template}' and s.year = due.year and s.county_code = e.county_code
          and s.status in ('loaded', 'superseded')
    )
)
select case when exists (select 1 from missing) then (select deadline::timestamptz from deadline)
            else current_timestamp end
"""


def _column_doc(col) -> str:
    doc = f"{col.zh} ({col.name}), {col.type}"
    if col.personal:
        doc += "; PERSONAL DATA: never leaves the raw schema"
    return doc


def _table(tpl: Template) -> dict:
    if tpl.fixed_county_code:
        expected = f"select '{tpl.fixed_county_code}'::text as county_code"
    else:
        expected = "select county_code from {{ seed_relation('counties') }}"
    columns = []
    if tpl.fixed_county_code:
        columns.append({"name": "county_code",
                        "description": f"县代码 (county_code), always {tpl.fixed_county_code} (the province)"})
    columns += [{"name": c.name, "description": _column_doc(c)} for c in tpl.columns]
    columns += [{"name": name, "description": PSEUDONYM_DOCS[name]} for name in tpl.pseudonyms]
    columns += [{"name": name, "description": LINEAGE_DOCS[name]} for name, _ in LINEAGE_COLUMNS]
    return {
        "name": tpl.name,
        "description": f"{tpl.zh} ({tpl.name}): every accepted row of every submission, all vintages; "
                       "written by ingestion only.",
        "config": {
            "freshness": {"warn_after": {"count": 1, "period": "day"},
                          "error_after": {"count": 30, "period": "day"}},
            "loaded_at_query": FRESHNESS_QUERY.format(template=tpl.name, expected=expected),
        },
        "columns": columns,
    }


def sources_document() -> dict:
    raw = {
        "name": "raw",
        "schema": "raw",
        "description": "The raw layer: county submissions as accepted by ingestion (typed, pseudonyms added, "
                       "personal data included). Only staging reads it.",
        "tables": [_table(tpl) for tpl in templates().values()],
    }
    ops = {
        "name": "ops",
        "schema": "ops",
        "description": "The operational ledger written by ingestion and validation.",
        "tables": [{
            "name": "submissions",
            "description": "One row per received file (上报文件台账): status loaded | rejected | superseded | "
                           "duplicate; the latest loaded one per county/template/year is the current vintage.",
            # every night that receives a file adds a row: a ledger silent for longer than a reporting
            # year means nothing is being received (the raw tables' freshness says which county is late)
            "config": {
                "loaded_at_field": "received_at",
                "freshness": {"warn_after": {"count": 400, "period": "day"}},
            },
            "columns": [
                {"name": "id", "description": "Submission id (上报编号)."},
                {"name": "status", "description": "loaded | rejected | superseded | duplicate (状态)."},
                {"name": "received_at", "description": "When the file was received (接收时间): the vintage."},
                {"name": "received_on", "description": "The receipt date the file carries (报送日期): its "
                                                       "modification time in landing; timeliness is judged by it."},
            ],
        }, {
            "name": "disclosure_suppression",
            "description": "Secondary suppression (次级保密) decided by the disclosure audit of the publication being "
                           "made (lowincome.publish.disclosure): every figure listed here is hidden with obs_conf D.",
        }],
    }
    return {"version": 2, "sources": [raw, ops]}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the freshness queries) as literal blocks, readable in the file."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def sources_yml() -> str:
    body = yaml.dump(sources_document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return HEADER + body


def sources_file() -> Path:
    return settings().dbt_project_dir / "models" / "staging" / "_sources.yml"


def main() -> int:
    path = sources_file()
    path.write_text(sources_yml(), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
